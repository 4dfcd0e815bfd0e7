//! What known functions do, by their dotted name: which run code or processes, which
//! talk to the network, which decode, and which read data worth stealing.
//!
//! Names are resolved through imports, so `from subprocess import Popen as P; P(…)` is
//! `subprocess.Popen`. An instance is written with `()`: `socket.socket().sendto`.

use super::value::Taint;

/// What calling a known function means to the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Runs its first argument as Python code.
    Exec,
    /// Compiles code: passes its argument's taint on.
    Compile,
    /// Imports the module its first argument names.
    Import,
    /// Starts a process from its arguments.
    Process,
    /// Sends or fetches over the network; its result is data from the network.
    Network,
    /// Resolves a name: its argument leaves the machine as a DNS query.
    Dns,
    /// Decodes: its result is [`Taint::DECODED`].
    Decoder,
    /// Returns data of this kind.
    Source(Taint),
    /// Registers a keyboard hook: the callbacks it is given receive keystrokes.
    KeyHook,
    /// Writes its argument to the clipboard.
    ClipboardWrite,
    /// Makes a path executable (when its mode has execute bits).
    Chmod,
    /// Copies its first path argument to its second.
    Copy,
    /// Loads a native library from a path.
    LoadLibrary,
    /// Writes the registry.
    Registry,
    /// Calls a function it is given later, in the background or at exit.
    Schedule,
    /// Windows API used to write into or read from another process.
    Injection,
    /// Loads Python source from a path.
    LoadModule,
}

const EXEC: &[&str] = &[
    "builtins.exec",
    "builtins.eval",
    "types.FunctionType",
    "runpy.run_path",
    "code.InteractiveInterpreter().runsource",
];

const PROCESS: &[&str] = &[
    "os.system",
    "os.popen",
    "os.startfile",
    "os.posix_spawn",
    "os.posix_spawnp",
    "subprocess.Popen",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "pty.spawn",
    "commands.getoutput",
    "asyncio.create_subprocess_shell",
    "asyncio.create_subprocess_exec",
    "ctypes.windll.shell32.ShellExecuteW",
    "ctypes.windll.shell32.ShellExecuteA",
    "win32api.ShellExecute",
    "win32process.CreateProcess",
    "pexpect.spawn",
    "pexpect.run",
    "pip.main",
    "pip._internal.main",
    "pip._internal.cli.main.main",
];

const NETWORK: &[&str] = &[
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib.urlopen",
    "urllib.urlretrieve",
    "urllib2.urlopen",
    "urllib.request.build_opener().open",
    "socket.create_connection",
    "websocket.create_connection",
    "websockets.connect",
    "telnetlib.Telnet",
];

/// Request methods of clients and sessions.
const HTTP_VERBS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "send",
];

const HTTP_CLIENTS: &[&str] = &[
    "requests",
    "requests.Session()",
    "requests.session()",
    "httpx",
    "httpx.Client()",
    "httpx.AsyncClient()",
    "aiohttp.ClientSession()",
    "urllib3.PoolManager()",
    "urllib3",
    "http.client.HTTPConnection()",
    "http.client.HTTPSConnection()",
    "httplib.HTTPConnection()",
    "httplib.HTTPSConnection()",
];

const SOCKET_SENDS: &[&str] = &[
    "socket.socket().send",
    "socket.socket().sendall",
    "socket.socket().sendto",
    "socket.socket().connect",
    "socket.socket().connect_ex",
    "socket.create_connection().send",
    "socket.create_connection().sendall",
    "smtplib.SMTP().sendmail",
    "smtplib.SMTP().send_message",
    "smtplib.SMTP_SSL().sendmail",
    "smtplib.SMTP_SSL().send_message",
    "ftplib.FTP().storbinary",
    "ftplib.FTP().storlines",
    "websocket.WebSocket().send",
    "websocket.create_connection().send",
];

const DNS: &[&str] = &[
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
    "socket.getaddrinfo",
    "dns.resolver.resolve",
    "dns.resolver.query",
    "dns.resolver.Resolver().resolve",
    "dns.resolver.Resolver().query",
];

const DECODERS: &[&str] = &[
    "base64.b64decode",
    "base64.b32decode",
    "base64.b16decode",
    "base64.b85decode",
    "base64.a85decode",
    "base64.urlsafe_b64decode",
    "base64.standard_b64decode",
    "base64.decodebytes",
    "base64.decodestring",
    "binascii.unhexlify",
    "binascii.a2b_hex",
    "binascii.a2b_base64",
    "binascii.a2b_uu",
    "builtins.bytes.fromhex",
    "builtins.bytearray.fromhex",
    "zlib.decompress",
    "lzma.decompress",
    "bz2.decompress",
    "gzip.decompress",
    "marshal.loads",
    "cryptography.fernet.Fernet().decrypt",
    "Crypto.Cipher.AES.new().decrypt",
    "Cryptodome.Cipher.AES.new().decrypt",
    "builtins.reversed",
    "codecs.getdecoder()",
    "codecs.lookup().decode",
];

const HOST: &[&str] = &[
    "socket.gethostname",
    "socket.getfqdn",
    "platform.node",
    "platform.uname",
    "platform.platform",
    "getpass.getuser",
    "os.getlogin",
    "os.getcwd",
    "os.uname",
    "uuid.getnode",
    "psutil.process_iter",
    "psutil.net_if_addrs",
    "psutil.users",
    "pwd.getpwall",
    "os.listdir",
];

const CLIPBOARD: &[&str] = &[
    "pyperclip.paste",
    "win32clipboard.GetClipboardData",
    "clipboard.paste",
    "tkinter.Tk().clipboard_get",
    "pandas.read_clipboard",
];

const SCREEN: &[&str] = &[
    "PIL.ImageGrab.grab",
    "ImageGrab.grab",
    "pyautogui.screenshot",
    "mss.mss().grab",
    "mss.mss().shot",
    "mss.mss().save",
    "pyscreenshot.grab",
];

const KEY_HOOKS: &[&str] = &[
    "pynput.keyboard.Listener",
    "keyboard.on_press",
    "keyboard.on_release",
    "keyboard.hook",
    "keyboard.record",
    "ctypes.windll.user32.SetWindowsHookExA",
    "ctypes.windll.user32.SetWindowsHookExW",
    "ctypes.windll.user32.GetAsyncKeyState",
    "win32api.GetAsyncKeyState",
    "pyHook.HookManager",
    "pythoncom.PumpMessages",
];

const CLIPBOARD_WRITES: &[&str] = &[
    "pyperclip.copy",
    "win32clipboard.SetClipboardText",
    "win32clipboard.SetClipboardData",
    "clipboard.copy",
    "tkinter.Tk().clipboard_append",
];

const INJECTION: &[&str] = &[
    "WriteProcessMemory",
    "CreateRemoteThread",
    "VirtualAllocEx",
    "NtUnmapViewOfSection",
    "QueueUserAPC",
    "SetThreadContext",
    "MiniDumpWriteDump",
    "ReadProcessMemory",
];

/// What `sym` is, if the rules care.
pub fn kind(sym: &str) -> Option<Kind> {
    let is = |list: &[&str]| list.contains(&sym);
    if is(EXEC) {
        return Some(Kind::Exec);
    }
    if sym == "builtins.compile" {
        return Some(Kind::Compile);
    }
    if sym == "builtins.__import__" || sym == "importlib.import_module" {
        return Some(Kind::Import);
    }
    if is(PROCESS) || is_exec_family(sym, "os.exec") || is_exec_family(sym, "os.spawn") {
        return Some(Kind::Process);
    }
    if is(NETWORK) || is(SOCKET_SENDS) || is_http_call(sym) {
        return Some(Kind::Network);
    }
    if is(DNS) {
        return Some(Kind::Dns);
    }
    if is(DECODERS) {
        return Some(Kind::Decoder);
    }
    if is(HOST) {
        return Some(Kind::Source(Taint::HOST));
    }
    if is(CLIPBOARD) {
        return Some(Kind::Source(Taint::CLIPBOARD));
    }
    if is(SCREEN) {
        return Some(Kind::Source(Taint::SCREEN));
    }
    if sym == "socket.socket().recv" || sym == "socket.socket().recvfrom" {
        return Some(Kind::Source(Taint::FETCHED));
    }
    if sym.starts_with("browser_cookie3.") {
        return Some(Kind::Source(Taint::CREDENTIAL));
    }
    if matches!(
        sym,
        "importlib.util.spec_from_file_location"
            | "importlib.machinery.SourceFileLoader"
            | "runpy.run_path"
            | "imp.load_source"
    ) {
        return Some(Kind::LoadModule);
    }
    if is(KEY_HOOKS) {
        return Some(Kind::KeyHook);
    }
    if is(CLIPBOARD_WRITES) {
        return Some(Kind::ClipboardWrite);
    }
    if sym == "os.chmod" || sym == "pathlib.Path().chmod" {
        return Some(Kind::Chmod);
    }
    if matches!(
        sym,
        "shutil.copy" | "shutil.copy2" | "shutil.copyfile" | "shutil.move" | "os.rename"
    ) {
        return Some(Kind::Copy);
    }
    if matches!(
        sym,
        "ctypes.CDLL" | "ctypes.WinDLL" | "ctypes.cdll.LoadLibrary" | "ctypes.windll.LoadLibrary"
    ) || sym.ends_with(".LoadLibraryA")
        || sym.ends_with(".LoadLibraryW")
    {
        return Some(Kind::LoadLibrary);
    }
    if matches!(
        sym,
        "winreg.SetValueEx"
            | "winreg.SetValue"
            | "winreg.CreateKey"
            | "winreg.CreateKeyEx"
            | "winreg.OpenKey"
            | "_winreg.SetValueEx"
            | "_winreg.OpenKey"
    ) {
        return Some(Kind::Registry);
    }
    if matches!(
        sym,
        "threading.Thread"
            | "threading.Timer"
            | "multiprocessing.Process"
            | "atexit.register"
            | "signal.signal"
    ) {
        return Some(Kind::Schedule);
    }
    let last = sym.rsplit('.').next().unwrap_or(sym);
    if sym.starts_with("ctypes.") && INJECTION.contains(&last) {
        return Some(Kind::Injection);
    }
    None
}

fn is_exec_family(sym: &str, prefix: &str) -> bool {
    sym.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 3 && rest.bytes().all(|b| b.is_ascii_lowercase())
    })
}

fn is_http_call(sym: &str) -> bool {
    let Some((client, verb)) = sym.rsplit_once('.') else {
        return false;
    };
    HTTP_VERBS.contains(&verb) && HTTP_CLIENTS.contains(&client)
}

/// Environment variables whose value is a secret.
pub fn secret_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|marker| upper.contains(marker))
        || upper.starts_with("AWS_")
}

/// Environment variables that describe the host or the user.
pub fn host_env(name: &str) -> bool {
    matches!(
        name.to_ascii_uppercase().as_str(),
        "USER" | "USERNAME" | "LOGNAME" | "COMPUTERNAME" | "HOSTNAME" | "USERDOMAIN"
    )
}

/// Paths that hold another program's secrets. Compared in lower case, with `\` as `/`.
const CREDENTIAL_PATHS: &[&str] = &[
    ".ssh/id_",
    "/.ssh/",
    ".aws/credentials",
    ".docker/config.json",
    ".kube/config",
    ".git-credentials",
    ".pypirc",
    ".npmrc",
    ".netrc",
    ".gnupg",
    ".vault-token",
    "/etc/shadow",
    "/etc/passwd",
    "login data",
    "web data",
    "local state",
    "cookies.sqlite",
    "logins.json",
    "key4.db",
    "/network/cookies",
    "user data/default",
    "mozilla/firefox/profiles",
    "local storage/leveldb",
    "wallet.dat",
    "electrum",
    "exodus",
    "metamask",
    "nkbihfbeogaeaoehlefnkodbefgpgknn",
    ".solana/id.json",
    "ethereum/keystore",
    "telegram desktop/tdata",
    "login.keychain",
    ".config/gcloud",
    ".bash_history",
    ".zsh_history",
    "accesstokens.json",
];

/// Whether a path names credentials. `known_hosts` and `config` under `.ssh` are not secrets.
pub fn credential_path(text: &str) -> bool {
    if !looks_like_path(text) {
        return false;
    }
    // One pass over the text finds any of the paths; only a hit pays for the
    // lower-cased copy the exceptions are checked on. Every string literal of a
    // file comes through here, so this is on the scanner's hot path.
    if !CREDENTIAL_MATCHER.is_match(text) {
        return false;
    }
    let lower = text.to_ascii_lowercase().replace('\\', "/");
    if lower.contains("known_hosts") || lower.ends_with(".ssh/config") {
        return false;
    }
    CREDENTIAL_PATHS.iter().any(|p| lower.contains(p))
}

/// Any of [`CREDENTIAL_PATHS`], ignoring ASCII case, with `\` matching `/`.
static CREDENTIAL_MATCHER: std::sync::LazyLock<regex_automata::meta::Regex> =
    std::sync::LazyLock::new(|| {
        let alternatives: Vec<String> = CREDENTIAL_PATHS
            .iter()
            .map(|path| {
                path.chars()
                    .map(|c| match c {
                        '/' => r"[/\\]".to_owned(),
                        c => regex_syntax_escape(c),
                    })
                    .collect()
            })
            .collect();
        let pattern = format!("(?i-u:{})", alternatives.join("|"));
        regex_automata::meta::Regex::new(&pattern)
            .expect("the credential paths form a valid pattern")
    });

/// `c` as a literal in a regular expression.
fn regex_syntax_escape(c: char) -> String {
    if c.is_ascii_alphanumeric() || c == ' ' || c == '_' {
        c.to_string()
    } else {
        format!("\\{c}")
    }
}

/// A path is one line and not a paragraph: a script or a help text that mentions
/// `~/.npmrc` is not a read of it.
fn looks_like_path(text: &str) -> bool {
    text.len() <= 400 && !text.contains('\n')
}

/// Files that make a program run at log-in or at every shell start.
const PERSISTENCE_PATHS: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".zshrc",
    ".zprofile",
    ".profile",
    "/library/launchagents",
    "/library/launchdaemons",
    ".config/autostart",
    ".config/systemd/user",
    "/etc/systemd/system",
    "/etc/cron",
    "/var/spool/cron",
    "/etc/rc.local",
    "/etc/ld.so.preload",
    "start menu/programs/startup",
    "currentversion/run",
];

pub fn persistence_path(text: &str) -> bool {
    if !looks_like_path(text) {
        return false;
    }
    let lower = text.to_ascii_lowercase().replace('\\', "/");
    PERSISTENCE_PATHS.iter().any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_dotted_name() {
        assert_eq!(kind("builtins.exec"), Some(Kind::Exec));
        assert_eq!(kind("os.execvp"), Some(Kind::Process));
        assert_eq!(kind("os.executable"), None);
        assert_eq!(kind("requests.Session().post"), Some(Kind::Network));
        assert_eq!(kind("requests.Session().mount"), None);
        assert_eq!(kind("socket.gethostname"), Some(Kind::Source(Taint::HOST)));
        assert_eq!(
            kind("ctypes.windll.kernel32.WriteProcessMemory"),
            Some(Kind::Injection)
        );
    }

    #[test]
    fn credential_and_persistence_paths() {
        assert!(credential_path("~/.aws/credentials"));
        assert!(credential_path(r"%APPDATA%\Exodus\exodus.wallet"));
        assert!(!credential_path("~/.ssh/known_hosts"));
        assert!(!credential_path("README.md"));
        assert!(persistence_path("~/.bashrc"));
        assert!(persistence_path(
            r"Software\Microsoft\Windows\CurrentVersion\Run"
        ));
    }
}
