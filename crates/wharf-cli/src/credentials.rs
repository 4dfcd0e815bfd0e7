//! Where `wharf login` keeps the token it received: a TOML file readable by
//! its owner only (mode 0600), under the user's config directory.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

/// One registry and the token for it.
#[derive(Serialize, Deserialize)]
pub struct Credentials {
    pub url: String,
    pub token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// `$WHARF_CREDENTIALS`, else `$XDG_CONFIG_HOME/wharf/credentials.toml`,
/// else `~/.config/wharf/credentials.toml`.
pub fn path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("WHARF_CREDENTIALS") {
        return Ok(PathBuf::from(p));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".config"),
            None => bail!(
                "cannot find a config directory: set HOME, XDG_CONFIG_HOME or WHARF_CREDENTIALS"
            ),
        },
    };
    Ok(base.join("wharf").join("credentials.toml"))
}

pub fn load() -> anyhow::Result<Credentials> {
    let path = path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("not logged in: run `wharf login --url URL` first")
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Writes the file beside its final name with mode 0600 from the start, then
/// renames it into place, so the token is never readable by others, even
/// for a moment, and a crash never leaves half a file.
pub fn store(credentials: &Credentials) -> anyhow::Result<PathBuf> {
    let path = path()?;
    let dir = path
        .parent()
        .context("the credentials path has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let text = toml::to_string(credentials).context("encoding the credentials")?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    // The umask cannot widen 0600, but make the mode explicit anyway.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

pub fn remove() -> anyhow::Result<bool> {
    let path = path()?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}
