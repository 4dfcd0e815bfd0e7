//! What the analysis knows about a Python value: a constant it could fold, the known
//! function or module it names, and where its data came from.

use std::ops::BitOr;

/// Where a value's data came from, and how it was made. Flags join as data flows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taint(u64);

impl Taint {
    pub const NONE: Self = Self(0);
    /// Passed through a decoder: base64, hex, zlib, marshal, rot13, XOR, `chr()` arithmetic.
    pub const DECODED: Self = Self(1);
    /// Received from the network.
    pub const FETCHED: Self = Self(1 << 1);
    /// The whole environment (`dict(os.environ)`, `os.environ.copy()`).
    pub const ENV: Self = Self(1 << 2);
    /// A secret-looking environment variable (`*_TOKEN`, `AWS_*`, `*PASSWORD*`).
    pub const SECRET: Self = Self(1 << 3);
    /// Another program's credentials: key files, cloud configs, browser stores, wallets.
    pub const CREDENTIAL: Self = Self(1 << 4);
    /// The clipboard's contents.
    pub const CLIPBOARD: Self = Self(1 << 5);
    /// Keystrokes.
    pub const KEYS: Self = Self(1 << 6);
    /// A screen capture.
    pub const SCREEN: Self = Self(1 << 7);
    /// Host, user, working directory, processes, network interfaces.
    pub const HOST: Self = Self(1 << 8);
    /// A function reached through a name built at run time, a dynamic lookup
    /// (`globals()[…]`, `__dict__[…]`) or a look-alike Unicode identifier.
    pub const HIDDEN_NAME: Self = Self(1 << 9);
    /// Opaque data that is not code a person could review (PyArmor blobs, image pixels).
    pub const OPAQUE: Self = Self(1 << 10);
    /// A path in the user's home directory.
    pub const HOME: Self = Self(1 << 11);

    /// Parameters of the function being summarized start with these, so a summary can
    /// say which parameter reaches which sink.
    const PARAM_SHIFT: u32 = 32;
    pub const MAX_PARAMS: usize = 32;

    pub fn param(index: usize) -> Self {
        if index < Self::MAX_PARAMS {
            Self(1 << (Self::PARAM_SHIFT + index as u32))
        } else {
            Self::NONE
        }
    }

    /// The parameters this taint carries.
    pub fn params(self) -> impl Iterator<Item = usize> {
        (0..Self::MAX_PARAMS).filter(move |i| self.0 & (1 << (Self::PARAM_SHIFT + *i as u32)) != 0)
    }

    pub fn has(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    pub fn without_params(self) -> Self {
        Self(self.0 & ((1 << Self::PARAM_SHIFT) - 1))
    }

    /// Data someone would want to steal.
    pub const SENSITIVE: Self = Self(
        Self::ENV.0
            | Self::SECRET.0
            | Self::CREDENTIAL.0
            | Self::CLIPBOARD.0
            | Self::KEYS.0
            | Self::SCREEN.0
            | Self::HOST.0,
    );

    /// What an object takes on when one of its attributes is set to a value with
    /// this taint: what it holds that could be sent (the sensitive kinds) and which
    /// parameters it came from. That one attribute was fetched or decoded says
    /// nothing about the object's other attributes, so those kinds stay with it.
    pub fn spread_to_object(self) -> Self {
        Self(self.0 & (Self::SENSITIVE.0 | !((1u64 << Self::PARAM_SHIFT) - 1)))
    }

    /// The sensitive kinds present, most serious first, for an explanation.
    pub fn describe(self) -> &'static str {
        [
            (Self::CREDENTIAL, "credentials"),
            (Self::ENV, "the whole environment"),
            (Self::KEYS, "keystrokes"),
            (Self::SCREEN, "screenshots"),
            (Self::CLIPBOARD, "the clipboard"),
            (Self::SECRET, "secret environment variables"),
            (Self::HOST, "host and user details"),
        ]
        .into_iter()
        .find(|(flag, _)| self.has(*flag))
        .map_or("data", |(_, what)| what)
    }
}

impl BitOr for Taint {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Taint {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// Stands for an unknown part inside a partly known string, e.g. the directory of
/// `os.path.join(tmp, "x.dll")`. Exact uses (names, decoding, code) refuse partial strings.
pub const UNKNOWN: char = '\u{1}';

/// Constants longer than this are not folded further: `'a' * 10**9` stays unknown.
pub const MAX_CONST_BYTES: usize = 1 << 20;
/// Containers longer than this keep only their taint.
pub const MAX_ITEMS: usize = 4096;

/// How many levels of containers a value keeps (`[[x]]` is two).
pub const MAX_NESTING: usize = 3;

/// A constant the analysis could compute.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Str(String),
    Bytes(Vec<u8>),
    Int(i64),
}

impl Const {
    /// The text, for strings, or bytes that are UTF-8.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            Self::Bytes(b) => std::str::from_utf8(b).ok(),
            Self::Int(_) => None,
        }
    }
}

/// What is known of one value.
#[derive(Debug, Clone, Default)]
pub struct Value {
    /// Its constant, if it could be computed.
    pub konst: Option<Const>,
    /// The known module, function or object it is: `os.system`, `builtins.exec`,
    /// `socket.socket()` (an instance), `local:name` (a function of this module).
    pub sym: Option<String>,
    pub taint: Taint,
    /// The constant was computed (concatenated, joined, decoded, escaped), not written
    /// plainly: a name spelled like this is being hidden.
    pub folded: bool,
    /// Elements of a list, tuple, set or dict (its values), when known.
    pub items: Vec<Value>,
    /// Dict keys, parallel to `items` when this is a dict with constant keys.
    pub keys: Vec<Option<String>>,
    /// Names this object was built around (`ZipFile(buf)` wraps `buf`): what is
    /// written into the object reaches them too.
    pub wraps: Vec<String>,
}

impl Value {
    pub fn unknown() -> Self {
        Self::default()
    }

    pub fn tainted(taint: Taint) -> Self {
        Self {
            taint,
            ..Self::default()
        }
    }

    pub fn sym(sym: impl Into<String>) -> Self {
        Self {
            sym: Some(sym.into()),
            ..Self::default()
        }
    }

    pub fn str(s: impl Into<String>, folded: bool) -> Self {
        let s = s.into();
        if s.len() > MAX_CONST_BYTES {
            return Self::unknown();
        }
        Self {
            konst: Some(Const::Str(s)),
            folded,
            ..Self::default()
        }
    }

    pub fn bytes(b: Vec<u8>, folded: bool) -> Self {
        if b.len() > MAX_CONST_BYTES {
            return Self::unknown();
        }
        Self {
            konst: Some(Const::Bytes(b)),
            folded,
            ..Self::default()
        }
    }

    pub fn int(i: i64) -> Self {
        Self {
            konst: Some(Const::Int(i)),
            ..Self::default()
        }
    }

    pub fn with_taint(mut self, taint: Taint) -> Self {
        self.taint |= taint;
        self
    }

    /// A string constant with no unknown part.
    pub fn exact_str(&self) -> Option<&str> {
        match &self.konst {
            Some(Const::Str(s)) if !s.contains(UNKNOWN) => Some(s),
            _ => None,
        }
    }

    /// A string or bytes constant, possibly partial (with [`UNKNOWN`] parts).
    pub fn text(&self) -> Option<&str> {
        self.konst.as_ref().and_then(Const::text)
    }

    /// Text where known, the unknown marker where not: for building partial strings.
    pub fn text_or_unknown(&self) -> String {
        match &self.konst {
            Some(Const::Int(i)) => i.to_string(),
            Some(c) => c.text().map_or_else(|| UNKNOWN.to_string(), str::to_owned),
            None => UNKNOWN.to_string(),
        }
    }

    pub fn int_value(&self) -> Option<i64> {
        match self.konst {
            Some(Const::Int(i)) => Some(i),
            _ => None,
        }
    }

    /// Makes this value fit inside a container: containers hold at most
    /// [`MAX_NESTING`] levels, so `a = [a]` repeated cannot build a value deeper than
    /// the stack. What is cut off leaves its taint behind.
    pub fn into_item(mut self) -> Self {
        self.truncate(MAX_NESTING - 1);
        self
    }

    fn truncate(&mut self, levels: usize) {
        if levels == 0 {
            self.taint = self.deep_taint();
            self.items.clear();
            self.keys.clear();
        } else {
            for item in &mut self.items {
                item.truncate(levels - 1);
            }
        }
    }

    /// The taint of this value and everything inside it.
    pub fn deep_taint(&self) -> Taint {
        self.items
            .iter()
            .fold(self.taint, |t, item| t | item.deep_taint())
    }

    /// Joins what two branches or operands could be: constants are kept only when
    /// they agree, taint always.
    pub fn merge(self, other: Self) -> Self {
        Self {
            konst: if self.konst == other.konst {
                self.konst
            } else {
                None
            },
            sym: if self.sym == other.sym {
                self.sym
            } else {
                self.sym.or(other.sym)
            },
            taint: self.taint | other.taint,
            folded: self.folded || other.folded,
            items: if self.items.is_empty() {
                other.items
            } else {
                self.items
            },
            keys: if self.keys.is_empty() {
                other.keys
            } else {
                self.keys
            },
            wraps: if self.wraps.is_empty() {
                other.wraps
            } else {
                self.wraps
            },
        }
    }
}

/// Only literal pieces: for partial strings built from parts.
pub fn concat(parts: &[&Value]) -> Value {
    let mut out = String::new();
    let mut taint = Taint::NONE;
    for p in parts {
        out.push_str(&p.text_or_unknown());
        taint |= p.deep_taint();
        if out.len() > MAX_CONST_BYTES {
            return Value::tainted(taint);
        }
    }
    let known = parts.iter().any(|p| p.konst.is_some());
    let mut v = if known {
        Value::str(out, true)
    } else {
        Value::unknown()
    };
    v.taint = taint;
    v
}
