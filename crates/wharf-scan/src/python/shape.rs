//! How deeply a Python file nests, measured on its tokens before it is parsed.
//!
//! The parser and the interpreter both recurse once per level of nesting, so a file
//! of a few megabytes of `((((…` or `- - - …` or `a.b.b.b…` would exhaust any stack.
//! CPython refuses such files too (200 nested brackets, 100 indentation levels), so
//! one that nests deeper is not code that runs: it is reported as unparsable and read
//! by the text heuristics instead.

/// CPython's limit on indentation levels.
const MAX_INDENT_LEVELS: usize = 100;

/// The most nesting we parse: open brackets plus the operators chained at each level
/// (every `+`, `.`, call, `not` adds a level to the syntax tree). Far above what
/// people or code generators write, far below what exhausts a scan thread's stack.
pub const MAX_DEPTH: usize = 1_000;

/// Why a file nests too deeply to parse safely, if it does.
pub fn too_deep(text: &str) -> Option<&'static str> {
    let mut lexer = Lexer {
        bytes: text.as_bytes(),
        at: 0,
        levels: vec![Level::default()],
        total: 1,
        indents: vec![0],
        operand: false,
    };
    lexer.run().err()
}

/// A lexing step, or why the file is too deep.
type Step = Result<(), &'static str>;

const TOO_NESTED: &str = "brackets and operators nested more than 1000 deep";
const TOO_INDENTED: &str = "more than 100 levels of indentation";

/// One open bracket (or the statement itself, or an f-string's replacement field).
#[derive(Default)]
struct Level {
    /// Operators chained since the last `,` `:` `=` at this level.
    chain: usize,
    /// The f-string quote this level is a replacement field of, if any.
    field_of: Option<Quote>,
}

#[derive(Clone, Copy)]
struct Quote {
    byte: u8,
    triple: bool,
}

struct Lexer<'t> {
    bytes: &'t [u8],
    at: usize,
    levels: Vec<Level>,
    /// `levels.len()` plus every level's chain: the syntax tree's depth, bounded above.
    total: usize,
    indents: Vec<usize>,
    /// The previous token ends an operand, so `(` or `[` calls or subscripts it.
    operand: bool,
}

const CHAIN_KEYWORDS: &[&[u8]] = &[
    b"not", b"and", b"or", b"if", b"else", b"lambda", b"await", b"in", b"is",
];

impl Lexer<'_> {
    fn run(&mut self) -> Step {
        self.line_start()?;
        while self.at < self.bytes.len() {
            let b = self.bytes[self.at];
            match b {
                b'#' => {
                    while self.at < self.bytes.len() && self.bytes[self.at] != b'\n' {
                        self.at += 1;
                    }
                }
                b'\n' => {
                    self.at += 1;
                    if self.levels.len() == 1 {
                        self.reset_chain();
                        self.operand = false;
                        self.line_start()?;
                    }
                }
                b'\\' => self.at += 2,
                b'\'' | b'"' => self.string(false)?,
                b'(' | b'[' | b'{' => {
                    if self.operand {
                        self.chain(1)?;
                    }
                    self.at += 1;
                    self.open(None)?;
                }
                b')' | b']' | b'}' => {
                    self.at += 1;
                    let closed_field = self.close();
                    if let Some(quote) = closed_field {
                        // Back inside the f-string this field belongs to.
                        self.string_body(quote, true)?;
                    }
                    self.operand = true;
                }
                b',' | b';' => {
                    self.at += 1;
                    self.reset_chain();
                    self.operand = false;
                }
                b':' | b'=' => {
                    let next = self.bytes.get(self.at + 1).copied();
                    // `==` and `:=` chain like other operators; a lone `=` or
                    // `:` ends the expression.
                    if next == Some(b'=') {
                        self.at += 2;
                        self.chain(1)?;
                    } else {
                        self.at += 1;
                        self.reset_chain();
                    }
                    self.operand = false;
                }
                b'0'..=b'9' => {
                    self.number();
                    self.operand = true;
                }
                b'.' if self
                    .bytes
                    .get(self.at + 1)
                    .is_some_and(|c| c.is_ascii_digit()) =>
                {
                    self.number();
                    self.operand = true;
                }
                _ if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => self.word()?,
                _ if b.is_ascii_whitespace() => self.at += 1,
                _ => {
                    // An operator. Each character counts as a level: `- - 1` and
                    // `--1` nest alike, and `**` counting twice is harmless.
                    self.at += 1;
                    self.chain(1)?;
                    self.operand = false;
                }
            }
        }
        Ok(())
    }

    fn line_start(&mut self) -> Step {
        let mut width = 0;
        while let Some(&c) = self.bytes.get(self.at + width) {
            if c != b' ' && c != b'\t' {
                break;
            }
            width += 1;
        }
        let blank = matches!(
            self.bytes.get(self.at + width),
            None | Some(b'\n' | b'\r' | b'#')
        );
        if blank {
            return Ok(());
        }
        while self.indents.last().is_some_and(|&top| top > width) {
            self.indents.pop();
        }
        if self.indents.last().is_some_and(|&top| top < width) {
            self.indents.push(width);
        }
        if self.indents.len() > MAX_INDENT_LEVELS + 1 {
            return Err(TOO_INDENTED);
        }
        Ok(())
    }

    fn word(&mut self) -> Step {
        let start = self.at;
        while self.at < self.bytes.len() {
            let c = self.bytes[self.at];
            if !(c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80) {
                break;
            }
            self.at += 1;
        }
        let word = &self.bytes[start..self.at];
        // A string prefix: r"", b'', f"", rb"", …
        if word.len() <= 2 && matches!(self.bytes.get(self.at), Some(b'\'' | b'"')) {
            let lower = word.to_ascii_lowercase();
            if lower.iter().all(|c| b"rbuft".contains(c)) {
                let formatted = lower.contains(&b'f') || lower.contains(&b't');
                return self.string(formatted);
            }
        }
        if CHAIN_KEYWORDS.contains(&word) {
            self.chain(1)?;
            self.operand = false;
        } else {
            self.operand = true;
        }
        Ok(())
    }

    fn number(&mut self) {
        while self.at < self.bytes.len() {
            let c = self.bytes[self.at];
            let exponent_sign = (c == b'+' || c == b'-')
                && self.at > 0
                && matches!(self.bytes[self.at - 1], b'e' | b'E')
                && !self.bytes[..self.at].starts_with(b"0x");
            if !(c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exponent_sign) {
                break;
            }
            self.at += 1;
        }
    }

    /// A string literal starting at its opening quote.
    fn string(&mut self, formatted: bool) -> Step {
        let byte = self.bytes[self.at];
        let triple = self.bytes[self.at..].starts_with(&[byte; 3]);
        self.at += if triple { 3 } else { 1 };
        self.string_body(Quote { byte, triple }, formatted)
    }

    /// The rest of a string, up to its closing quote or an f-string field.
    fn string_body(&mut self, quote: Quote, formatted: bool) -> Step {
        while self.at < self.bytes.len() {
            let c = self.bytes[self.at];
            if c == b'\\' {
                self.at += 2;
                continue;
            }
            if c == quote.byte {
                if !quote.triple {
                    self.at += 1;
                    break;
                }
                if self.bytes[self.at..].starts_with(&[c; 3]) {
                    self.at += 3;
                    break;
                }
            }
            if c == b'\n' && !quote.triple {
                break;
            }
            if formatted && c == b'{' {
                if self.bytes.get(self.at + 1) == Some(&b'{') {
                    self.at += 2;
                    continue;
                }
                // A replacement field: code until its `}`, then this string again.
                self.at += 1;
                self.open(Some(quote))?;
                self.operand = false;
                return Ok(());
            }
            self.at += 1;
        }
        self.operand = true;
        Ok(())
    }

    fn open(&mut self, field_of: Option<Quote>) -> Step {
        self.levels.push(Level { chain: 0, field_of });
        self.total += 1;
        self.check()
    }

    /// Closes the innermost level; returns the f-string to resume if it was a field.
    fn close(&mut self) -> Option<Quote> {
        if self.levels.len() == 1 {
            // Unbalanced: the parser will report it.
            return None;
        }
        let level = self.levels.pop().expect("more than one level");
        self.total -= 1 + level.chain;
        level.field_of
    }

    fn chain(&mut self, n: usize) -> Step {
        self.levels.last_mut().expect("the statement level").chain += n;
        self.total += n;
        self.check()
    }

    fn reset_chain(&mut self) {
        let level = self.levels.last_mut().expect("the statement level");
        self.total -= level.chain;
        level.chain = 0;
    }

    fn check(&mut self) -> Step {
        if self.total > MAX_DEPTH {
            return Err(TOO_NESTED);
        }
        Ok(())
    }
}
