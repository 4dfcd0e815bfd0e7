//! A small abstract interpreter over one module's syntax tree.
//!
//! It runs nothing. It walks every statement once, keeping for each name what is known
//! of its value ([`Value`]): a folded constant, the known function it names, and the
//! taint of its data. Calls to known functions ([`known::kind`]) are checked where they
//! happen, with the place the code runs in ([`Place`]). Functions of the module are
//! summarized first (what their result carries, which parameter reaches which sink),
//! so a call to `send(os.environ)` is judged at the call.

use super::command;
use super::known::{self, Kind};
use super::value::{concat, Const, Taint, Value, MAX_CONST_BYTES, MAX_ITEMS, UNKNOWN};
use ruff_python_ast::{
    self as ast, BoolOp, Expr, InterpolatedStringElement, Number, Operator, Stmt, UnaryOp,
};
use ruff_text_size::Ranged;
use std::collections::{BTreeMap, BTreeSet};

/// Where code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// When the module is imported: its top level, and functions that top level calls.
    Import,
    /// When the sdist is installed: all of `setup.py`.
    Install,
    /// At every interpreter start: a `.pth` line.
    Pth,
    /// Only when somebody calls the function.
    Call,
}

/// How much a hit matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// A threat wherever it is.
    Always,
    /// A threat where the code runs by itself (import, install, `.pth`, entry point);
    /// a warning in a function nobody is known to call.
    WhenRun,
    /// Worth showing, never a hold.
    Info,
}

/// A file this code writes.
#[derive(Debug, Clone)]
struct Written {
    path: String,
    /// The taint of what is written.
    taint: Taint,
    /// What is written is text spelled out in the code, not bytes from elsewhere.
    literal_text: bool,
    /// The function that writes it.
    function: Option<String>,
}

/// A path with some of its name known, not only separators around unknowns.
fn spelled_out(path: &str) -> bool {
    path.chars()
        .filter(|c| *c != UNKNOWN && !matches!(c, '/' | '\\' | '.'))
        .count()
        >= 3
}

/// One thing found, before it becomes a finding.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: &'static str,
    pub offset: usize,
    pub why: String,
    pub place: Place,
    /// The function it is in (`Class.method` for methods), for entry points.
    pub function: Option<String>,
    pub strength: Strength,
}

/// Which sinks a function's parameters reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Exec,
    Process,
    Network,
    /// Kept in a module-level variable (`KEYS.append(key)`).
    Store,
}

#[derive(Debug, Clone, Default)]
struct Summary {
    ret: Value,
    param_sinks: Vec<(usize, Sink)>,
}

/// Facts about the whole module, for rules that need two things at once.
#[derive(Debug, Default)]
pub struct Facts {
    pub key_hook: Option<usize>,
    pub network: Option<usize>,
    pub file_write: Option<usize>,
    pub clipboard_read: Option<usize>,
    pub clipboard_write: Option<usize>,
    pub injection: Vec<(String, usize)>,
    /// `LD_PRELOAD` is set for a process.
    pub ld_preload: Option<usize>,
    pub runs_code: Option<usize>,
    /// Paths written, with the taint of what was written.
    written: Vec<Written>,
    /// Paths made executable.
    executable: Vec<String>,
}

struct Frame {
    /// Where a credential path was used, and where the network, in this frame.
    credential_use: Option<usize>,
    network: Option<usize>,
    /// A method of a class that overrides setuptools' install, develop or egg_info.
    install_command: bool,
    locals: Option<BTreeMap<String, Value>>,
    declared_global: BTreeSet<String>,
    function: Option<String>,
    class: Option<String>,
    place: Place,
    summary: Summary,
}

/// Names Python provides without an import.
const BUILTINS: &[&str] = &[
    "exec",
    "eval",
    "compile",
    "getattr",
    "setattr",
    "globals",
    "locals",
    "vars",
    "__import__",
    "chr",
    "ord",
    "open",
    "bytes",
    "bytearray",
    "str",
    "map",
    "reversed",
    "list",
    "tuple",
    "dict",
    "set",
    "sorted",
    "print",
    "len",
    "range",
    "int",
    "hex",
    "type",
    "input",
    "zip",
    "filter",
    "iter",
    "next",
    "sum",
    "hasattr",
    "isinstance",
    "repr",
    "format",
    "id",
    "object",
];

const MAX_DEPTH: u8 = 3;

/// Functions that write their first argument into the file object given second.
const SERIALIZERS: &[&str] = &[
    "json.dump",
    "pickle.dump",
    "marshal.dump",
    "plistlib.dump",
    "yaml.dump",
    "yaml.safe_dump",
    "toml.dump",
    "shutil.copyfileobj",
];

/// Codecs that text is ordinarily kept in (names lower-cased, without `-` and `_`).
fn plain_codec(codec: &str) -> bool {
    matches!(
        codec,
        "utf8"
            | "utf8sig"
            | "u8"
            | "ascii"
            | "usascii"
            | "latin1"
            | "latin"
            | "l1"
            | "iso88591"
            | "8859"
            | "cp819"
            | "cp1252"
            | "windows1252"
    ) || codec.starts_with("utf16")
        || codec.starts_with("utf32")
}

/// A plain Python identifier, such as a builtin's name.
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Constructors of temporary file objects.
const TEMP_FILES: &[&str] = &[
    "tempfile.NamedTemporaryFile",
    "tempfile.TemporaryFile",
    "tempfile.SpooledTemporaryFile",
];

/// What `compile()` returns: the code object keeps the source it was made from.
const CODE_OBJECT: &str = "types.CodeType()";
/// What `types.FunctionType(code, globals)` returns when the code is known to come
/// from `compile()` or from decoded data; its first item is that code.
const FUNCTION_FROM_CODE: &str = "types.FunctionType(code)";

/// `compile(source, …)`: a code object that keeps what is known of its source.
fn compiled(source: Option<&Value>, args: &Args<'_>) -> Value {
    let mut code = source.cloned().unwrap_or_default().with_taint(args.taint());
    code.sym = Some(CODE_OBJECT.to_owned());
    code
}

/// `types.FunctionType(code, globals)` over code from `compile()` or decoded data.
/// Copies of existing functions (`f.__code__`) are ordinary and stay unknown.
fn function_from_code(sym: &str, args: &Args<'_>) -> Option<Value> {
    if sym != "types.FunctionType" && sym != "types.LambdaType" {
        return None;
    }
    let code = args.positional.first()?;
    let made = code.sym.as_deref() == Some(CODE_OBJECT)
        || code.deep_taint().has(Taint::DECODED)
        || code.deep_taint().has(Taint::FETCHED)
        || code.deep_taint().has(Taint::OPAQUE);
    made.then(|| Value {
        sym: Some(FUNCTION_FROM_CODE.to_owned()),
        taint: code.deep_taint(),
        items: vec![code.clone().into_item()],
        ..Value::default()
    })
}
/// Modules whose functions run code or processes.
const DANGEROUS_MODULES: &[&str] = &[
    "builtins",
    "os",
    "subprocess",
    "pty",
    "posix",
    "nt",
    "commands",
    "socket",
    "ctypes",
];
/// Element evaluations a module may spend folding comprehensions.
const FOLD_BUDGET: usize = 200_000;

pub struct Analyzer<'a> {
    src: &'a str,
    top: Place,
    globals: BTreeMap<String, Value>,
    /// The top level (and what it calls) runs commands, executes code or uses the
    /// network: importing the module does something.
    pub active_at_top: bool,
    /// While summarizing: a function called one whose summary did not exist yet.
    summary_missed: bool,
    /// The dotted package this file belongs to (`pkg.sub` for `pkg/sub/mod.py`),
    /// for relative imports.
    pub package: Option<String>,
    /// Dotted functions of other modules (`pkg.helper.run`) that code running by
    /// itself calls.
    pub calls_at_top: BTreeSet<String>,
    /// Names the module starts with: the caller's, for code run by `exec()`.
    inherited: BTreeMap<String, Value>,
    functions: BTreeMap<String, &'a ast::StmtFunctionDef>,
    classes: BTreeSet<String>,
    /// Classes that override an install-time setuptools command.
    install_classes: BTreeSet<String>,
    /// Calls of local functions evaluated with their arguments, and how deep.
    inlined: usize,
    inline_depth: u8,
    summaries: BTreeMap<String, Summary>,
    reached: BTreeSet<String>,
    pending: Vec<String>,
    frames: Vec<Frame>,
    recording: bool,
    budget: usize,
    depth: u8,
    /// Offsets of the outer call when this analyses code found in a string.
    anchor: Option<usize>,
    pub hits: Vec<Hit>,
    pub facts: Facts,
}

impl<'a> Analyzer<'a> {
    pub fn new(src: &'a str, top: Place) -> Self {
        Self {
            src,
            top,
            globals: BTreeMap::new(),
            inherited: BTreeMap::new(),
            active_at_top: false,
            summary_missed: false,
            package: None,
            calls_at_top: BTreeSet::new(),
            functions: BTreeMap::new(),
            classes: BTreeSet::new(),
            install_classes: BTreeSet::new(),
            inlined: 0,
            inline_depth: 0,
            summaries: BTreeMap::new(),
            reached: BTreeSet::new(),
            pending: Vec::new(),
            frames: Vec::new(),
            recording: false,
            budget: FOLD_BUDGET,
            depth: 0,
            anchor: None,
            hits: Vec::new(),
            facts: Facts::default(),
        }
    }

    /// Analyses a module: summaries of its functions, then its top level, then every
    /// function in the place it runs.
    pub fn module(&mut self, body: &'a [Stmt]) {
        self.collect_definitions(body, None);
        let names: Vec<String> = self.functions.keys().cloned().collect();
        // A first, silent pass binds the module's names (imports, tables, constants)
        // so the summaries see them.
        self.frames.push(self.frame(None, None, self.top));
        self.block(body);
        self.frames.pop();
        // A second time when a function called another not yet summarized, so it
        // sees the other's summary.
        for _ in 0..2 {
            self.summary_missed = false;
            for name in &names {
                let summary = self.summarize(name);
                self.summaries.insert(name.clone(), summary);
            }
            if !self.summary_missed {
                break;
            }
        }
        self.recording = true;
        self.globals = self.inherited.clone();
        self.frames.push(self.frame(None, None, self.top));
        self.block(body);
        let frame = self.frames.pop().expect("pushed above");
        self.frame_end(&frame);
        // Functions the top level calls run when it runs.
        while let Some(name) = self.pending.pop() {
            if let Some(def) = self.functions.get(&name).copied() {
                self.function_body(&name, def, self.top);
            }
        }
        self.active_at_top = self.facts.runs_code.is_some() || self.facts.network.is_some();
        let rest: Vec<String> = names
            .into_iter()
            .filter(|n| !self.reached.contains(n))
            .collect();
        for name in rest {
            let place = if self.top == Place::Call || self.top == Place::Import {
                Place::Call
            } else {
                self.top
            };
            // setup.py's functions and commands all run at install.
            if let Some(def) = self.functions.get(&name).copied() {
                self.function_body(&name, def, place);
            }
            // Anything a called function reaches is reached from a call.
            while let Some(name) = self.pending.pop() {
                let _ = name;
            }
        }
    }

    fn frame(&self, function: Option<String>, class: Option<String>, place: Place) -> Frame {
        let install_command = class
            .as_ref()
            .is_some_and(|c| self.install_classes.contains(c));
        Frame {
            credential_use: None,
            network: None,
            install_command,
            locals: function.as_ref().map(|_| BTreeMap::new()),
            declared_global: BTreeSet::new(),
            function,
            class,
            place,
            summary: Summary::default(),
        }
    }

    fn collect_definitions(&mut self, body: &'a [Stmt], class: Option<&str>) {
        for stmt in body {
            match stmt {
                Stmt::FunctionDef(def) => {
                    let name = match class {
                        Some(c) => format!("{c}.{}", def.name.as_str()),
                        None => def.name.to_string(),
                    };
                    self.functions.insert(name, def);
                }
                Stmt::ClassDef(def) if class.is_none() => {
                    self.classes.insert(def.name.to_string());
                    let overrides_install = def.arguments.as_ref().is_some_and(|args| {
                        args.args.iter().any(|base| {
                            let text = &self.src[base.range().to_std_range()];
                            let last = text.rsplit('.').next().unwrap_or(text);
                            matches!(
                                last.trim_start_matches('_'),
                                "install"
                                    | "develop"
                                    | "egg_info"
                                    | "easy_install"
                                    | "install_lib"
                                    | "install_scripts"
                            )
                        })
                    });
                    if overrides_install {
                        self.install_classes.insert(def.name.to_string());
                    }
                    self.collect_definitions(&def.body, Some(def.name.as_str()));
                }
                Stmt::If(s) if class.is_none() => {
                    self.collect_definitions(&s.body, None);
                    for clause in &s.elif_else_clauses {
                        self.collect_definitions(&clause.body, None);
                    }
                }
                Stmt::Try(s) if class.is_none() => {
                    self.collect_definitions(&s.body, None);
                    for ast::ExceptHandler::ExceptHandler(h) in &s.handlers {
                        self.collect_definitions(&h.body, None);
                    }
                }
                _ => {}
            }
        }
    }

    fn summarize(&mut self, name: &str) -> Summary {
        let Some(def) = self.functions.get(name).copied() else {
            return Summary::default();
        };
        let was = self.recording;
        self.recording = false;
        let class = name.split_once('.').map(|(c, _)| c.to_owned());
        let mut frame = self.frame(Some(name.to_owned()), class, Place::Call);
        let locals = frame.locals.get_or_insert_with(BTreeMap::new);
        for (i, param) in def.parameters.iter_non_variadic_params().enumerate() {
            locals.insert(
                param.parameter.name.to_string(),
                Value::tainted(Taint::param(i)),
            );
        }
        self.frames.push(frame);
        self.block(&def.body);
        let frame = self.frames.pop().expect("pushed above");
        self.recording = was;
        frame.summary
    }

    fn function_body(&mut self, name: &str, def: &'a ast::StmtFunctionDef, place: Place) {
        let class = name.split_once('.').map(|(c, _)| c.to_owned());
        let mut frame = self.frame(Some(name.to_owned()), class, place);
        let locals = frame.locals.get_or_insert_with(BTreeMap::new);
        for param in def.parameters.iter() {
            locals.insert(param.name().to_string(), Value::unknown());
        }
        self.frames.push(frame);
        self.block(&def.body);
        let frame = self.frames.pop().expect("pushed above");
        self.frame_end(&frame);
    }

    fn current(&self) -> &Frame {
        self.frames.last().expect("a frame while walking")
    }

    fn place(&self) -> Place {
        self.current().place
    }

    /// The absolute module a relative import names (`from ..x import y` in
    /// `pkg/sub/mod.py` is `pkg.x`), if this file's package is known.
    fn resolve_relative(&self, level: u32, module: &str) -> Option<String> {
        let package = self.package.as_deref()?;
        let mut parts: Vec<&str> = package.split('.').collect();
        for _ in 1..level {
            parts.pop()?;
        }
        if parts.is_empty() {
            return None;
        }
        if !module.is_empty() {
            parts.push(module);
        }
        Some(parts.join("."))
    }

    // ---- names ---------------------------------------------------------------------

    fn lookup(&self, name: &str) -> Value {
        let frame = self.current();
        if let Some(locals) = &frame.locals {
            if !frame.declared_global.contains(name) {
                if let Some(v) = locals.get(name) {
                    return v.clone();
                }
            }
        }
        if let Some(v) = self.globals.get(name) {
            return v.clone();
        }
        if self.functions.contains_key(name) {
            return Value::sym(format!("local:{name}"));
        }
        if self.classes.contains(name) {
            return Value::sym(format!("class:{name}"));
        }
        if name == "self" {
            if let Some(class) = &frame.class {
                return Value::sym(format!("self:{class}"));
            }
        }
        match name {
            "__builtins__" | "builtins" => Value::sym("builtins"),
            "__pyarmor__" => Value::sym("pyarmor.__pyarmor__"),
            _ if BUILTINS.contains(&name) => Value::sym(format!("builtins.{name}")),
            _ => Value::unknown(),
        }
    }

    fn assign_name(&mut self, name: &str, value: Value) {
        let frame = self.frames.last_mut().expect("a frame while walking");
        match &mut frame.locals {
            Some(locals) if !frame.declared_global.contains(name) => {
                locals.insert(name.to_owned(), value);
            }
            _ => {
                self.globals.insert(name.to_owned(), value);
            }
        }
    }

    /// Adds taint to a name's value, for `buf.append(x)` and the like.
    fn taint_name(&mut self, name: &str, taint: Taint) {
        if taint == Taint::NONE {
            return;
        }
        // What a name wraps is tainted with it; wraps can form cycles.
        let mut pending = vec![name.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(name) = pending.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let mut v = self.lookup(&name);
            if v.sym.as_deref().is_some_and(|s| !s.ends_with("()")) {
                // A module or a known function is not data.
                continue;
            }
            v.taint |= taint;
            pending.extend(v.wraps.iter().cloned());
            if !self.recording && taint.params().next().is_some() && !self.is_local(&name) {
                self.note_param_sink(taint, Sink::Store);
            }
            self.update_name(name, v);
        }
    }

    /// Replaces a name's value where it lives: a local it already is, or a global.
    fn update_name(&mut self, name: String, v: Value) {
        let frame = self.frames.last_mut().expect("a frame while walking");
        let local = frame
            .locals
            .as_ref()
            .is_some_and(|l| l.contains_key(&name) && !frame.declared_global.contains(&name));
        if local {
            frame.locals.as_mut().expect("checked").insert(name, v);
        } else {
            self.globals.insert(name, v);
        }
    }

    fn is_local(&self, name: &str) -> bool {
        let frame = self.current();
        frame
            .locals
            .as_ref()
            .is_some_and(|l| l.contains_key(name) && !frame.declared_global.contains(name))
    }

    fn assign(&mut self, target: &Expr, value: Value) {
        match target {
            Expr::Name(n) => self.assign_name(n.id.as_str(), value),
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                for (i, elt) in elts.iter().enumerate() {
                    let item = value
                        .items
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| Value::tainted(value.deep_taint()));
                    self.assign(elt, item);
                }
            }
            Expr::Starred(s) => self.assign(&s.value, value),
            Expr::Subscript(s) => {
                if let Expr::Name(n) = &*s.value {
                    self.taint_name(n.id.as_str(), value.deep_taint());
                }
            }
            Expr::Attribute(a) => {
                // `obj.x = …`: the attribute keeps its value, under `obj.x`, and the
                // object takes on what could be sent with it.
                if let Expr::Name(n) = &*a.value {
                    if n.id.as_str() != "self" {
                        let object = n.id.as_str();
                        self.taint_name(object, value.deep_taint().spread_to_object());
                        self.assign_name(&format!("{object}.{}", a.attr), value);
                    }
                }
            }
            _ => {}
        }
    }

    // ---- statements ----------------------------------------------------------------

    fn block(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &'a Stmt) {
        self.hidden_past_whitespace(stmt);
        match stmt {
            Stmt::Expr(s) => {
                self.expr(&s.value);
            }
            Stmt::Assign(s) => {
                let v = self.expr(&s.value);
                for t in &s.targets {
                    self.assign(t, v.clone());
                }
            }
            Stmt::AnnAssign(s) => {
                if let Some(value) = &s.value {
                    let v = self.expr(value);
                    self.assign(&s.target, v);
                }
            }
            Stmt::AugAssign(s) => {
                let right = self.expr(&s.value);
                let left = self.expr(&s.target);
                let v = self.binop(left, s.op, right);
                self.assign(&s.target, v);
            }
            Stmt::Import(s) => {
                for alias in &s.names {
                    let full = alias.name.as_str();
                    match &alias.asname {
                        Some(asname) => self.assign_name(asname.as_str(), Value::sym(full)),
                        None => {
                            let first = full.split('.').next().unwrap_or(full);
                            self.assign_name(first, Value::sym(first));
                        }
                    }
                }
            }
            Stmt::ImportFrom(s) => {
                let module = s.module.as_ref().map_or("", |m| m.as_str());
                for alias in &s.names {
                    let name = alias.name.as_str();
                    if name == "*" {
                        continue;
                    }
                    let bound = alias.asname.as_ref().map_or(name, |a| a.as_str());
                    let sym = if s.level > 0 {
                        match self.resolve_relative(s.level, module) {
                            Some(base) => format!("{base}.{name}"),
                            None => format!("relative:{name}"),
                        }
                    } else if module.is_empty() {
                        format!("relative:{name}")
                    } else {
                        format!("{module}.{name}")
                    };
                    self.assign_name(bound, Value::sym(sym));
                }
            }
            Stmt::FunctionDef(def) => {
                for d in &def.decorator_list {
                    self.expr(&d.expression);
                }
                // Defaults are evaluated where the function is defined.
                for p in def.parameters.iter_non_variadic_params() {
                    if let Some(default) = &p.default {
                        self.expr(default);
                    }
                }
            }
            Stmt::ClassDef(def) => {
                if let Some(args) = &def.arguments {
                    for a in args.args.iter() {
                        self.expr(a);
                    }
                }
                // The class body runs where the class is defined; its methods do not.
                // Its attributes are kept as `Class.attr`.
                for s in &def.body {
                    match s {
                        Stmt::FunctionDef(_) => {}
                        Stmt::Assign(a) => {
                            let v = self.expr(&a.value);
                            for t in &a.targets {
                                if let Expr::Name(n) = t {
                                    self.globals.insert(
                                        format!("{}.{}", def.name.as_str(), n.id.as_str()),
                                        v.clone(),
                                    );
                                }
                            }
                        }
                        _ => self.stmt(s),
                    }
                }
            }
            Stmt::Return(s) => {
                if let Some(value) = &s.value {
                    let v = self.expr(value);
                    let frame = self.frames.last_mut().expect("a frame while walking");
                    let ret = std::mem::take(&mut frame.summary.ret);
                    frame.summary.ret =
                        if ret.konst.is_none() && ret.sym.is_none() && ret.taint == Taint::NONE {
                            v
                        } else {
                            ret.merge(v)
                        };
                }
            }
            Stmt::If(s) => {
                let main_guard = is_main_guard(&s.test);
                self.expr(&s.test);
                if main_guard && self.place() == Place::Import {
                    // Runs as a script, not on import.
                    let saved = self.frames.last().map(|f| f.place);
                    self.frames.last_mut().expect("frame").place = Place::Call;
                    self.block(&s.body);
                    if let Some(p) = saved {
                        self.frames.last_mut().expect("frame").place = p;
                    }
                } else {
                    self.block(&s.body);
                }
                for clause in &s.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        self.expr(test);
                    }
                    self.block(&clause.body);
                }
            }
            Stmt::For(s) => {
                let iter = self.expr(&s.iter);
                let known = !iter.items.is_empty()
                    && iter.items.len() <= 8
                    && iter
                        .items
                        .iter()
                        .all(|i| i.konst.is_some() || !i.items.is_empty())
                    && self.budget >= iter.items.len();
                if known {
                    // A short list of known values: the body once for each, so
                    // `for rc in (".bashrc", ".zshrc")` keeps its names.
                    self.budget -= iter.items.len();
                    for item in iter.items.clone() {
                        self.assign(&s.target, item);
                        self.block(&s.body);
                    }
                } else {
                    let item = self.element_of(&iter);
                    self.assign(&s.target, item);
                    self.block(&s.body);
                }
                self.block(&s.orelse);
            }
            Stmt::While(s) => {
                self.expr(&s.test);
                self.block(&s.body);
                self.block(&s.orelse);
            }
            Stmt::With(s) => {
                for item in &s.items {
                    let v = self.expr(&item.context_expr);
                    if let Some(target) = &item.optional_vars {
                        self.assign(target, v);
                    }
                }
                self.block(&s.body);
            }
            Stmt::Try(s) => {
                self.block(&s.body);
                for ast::ExceptHandler::ExceptHandler(h) in &s.handlers {
                    self.block(&h.body);
                }
                self.block(&s.orelse);
                self.block(&s.finalbody);
            }
            Stmt::Match(s) => {
                self.expr(&s.subject);
                for case in &s.cases {
                    self.block(&case.body);
                }
            }
            Stmt::Global(s) => {
                let frame = self.frames.last_mut().expect("a frame while walking");
                for name in &s.names {
                    frame.declared_global.insert(name.to_string());
                }
            }
            Stmt::Raise(s) => {
                if let Some(e) = &s.exc {
                    self.expr(e);
                }
            }
            Stmt::Assert(s) => {
                self.expr(&s.test);
            }
            Stmt::Delete(_)
            | Stmt::TypeAlias(_)
            | Stmt::Nonlocal(_)
            | Stmt::Pass(_)
            | Stmt::Break(_)
            | Stmt::Continue(_)
            | Stmt::IpyEscapeCommand(_) => {}
        }
    }

    /// A statement pushed far right past a run of spaces, out of an editor's view.
    fn hidden_past_whitespace(&mut self, stmt: &Stmt) {
        let start = stmt.range().start().to_usize();
        let line_start = self.src[..start].rfind('\n').map_or(0, |i| i + 1);
        let before = self.src[line_start..start].trim_end_matches([' ', '\t']);
        let before = before.strip_suffix(';').unwrap_or(before);
        let trailing_ws = before.len() - before.trim_end_matches([' ', '\t']).len();
        if trailing_ws >= 80 {
            self.hit(
                "code.hidden-code",
                start,
                Strength::Always,
                format!("code sits after {trailing_ws} blanks, past the right edge of an editor"),
            );
        }
    }

    // ---- expressions ---------------------------------------------------------------

    fn expr(&mut self, expr: &'a Expr) -> Value {
        match expr {
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                let escaped = s.value.is_implicit_concatenated()
                    || self.src[s.range().to_std_range()].contains('\\');
                let mut v = Value::str(text, escaped);
                if known::credential_path(text) {
                    v.taint |= Taint::CREDENTIAL;
                }
                if text.starts_with('~') {
                    v.taint |= Taint::HOME;
                }
                if text.starts_with("--load-extension") {
                    self.hit(
                        "code.persistence",
                        s.range().start().to_usize(),
                        Strength::WhenRun,
                        "a browser is told to load an extension from a directory".into(),
                    );
                }
                v
            }
            Expr::BytesLiteral(b) => {
                let bytes: Vec<u8> = b.value.bytes().collect();
                Value::bytes(bytes, false)
            }
            Expr::NumberLiteral(n) => match &n.value {
                Number::Int(i) => i.as_i64().map_or_else(Value::unknown, Value::int),
                _ => Value::unknown(),
            },
            Expr::BooleanLiteral(b) => Value::int(i64::from(b.value)),
            Expr::FString(f) => {
                let mut parts = Vec::new();
                for part in f.value.iter() {
                    match part {
                        ast::FStringPart::Literal(l) => {
                            parts.push(Value::str(l.value.as_ref(), false))
                        }
                        ast::FStringPart::FString(fs) => {
                            for element in fs.elements.iter() {
                                match element {
                                    InterpolatedStringElement::Literal(l) => {
                                        parts.push(Value::str(l.value.as_ref(), false));
                                    }
                                    InterpolatedStringElement::Interpolation(i) => {
                                        let v = self.expr(&i.expression);
                                        parts.push(v);
                                    }
                                }
                            }
                        }
                    }
                }
                let refs: Vec<&Value> = parts.iter().collect();
                concat(&refs)
            }
            Expr::Name(n) => {
                let mut v = self.lookup(n.id.as_str());
                let written = &self.src[n.range().to_std_range()];
                if written != n.id.as_str() && v.sym.is_some() {
                    // Python folds look-alike letters (NFKC) into the name they imitate.
                    v.taint |= Taint::HIDDEN_NAME;
                }
                v
            }
            Expr::Attribute(a) => {
                let base = self.expr(&a.value);
                let mut v = self.attribute(base, a.attr.as_str(), false);
                if let Expr::Name(n) = &*a.value {
                    // What `obj.x = …` stored.
                    let stored = self.lookup(&format!("{}.{}", n.id, a.attr));
                    v.taint |= stored.taint;
                    if v.konst.is_none() && v.sym.is_none() {
                        v.konst = stored.konst;
                        v.folded |= stored.folded;
                    }
                }
                let written = &self.src[a.attr.range().to_std_range()];
                if written != a.attr.as_str() && v.sym.is_some() {
                    v.taint |= Taint::HIDDEN_NAME;
                }
                v
            }
            Expr::Subscript(s) => self.subscript(s),
            Expr::Call(call) => self.call(call),
            Expr::BinOp(b) => {
                let left = self.expr(&b.left);
                let right = self.expr(&b.right);
                self.binop(left, b.op, right)
            }
            Expr::UnaryOp(u) => {
                let v = self.expr(&u.operand);
                match (u.op, v.int_value()) {
                    (UnaryOp::USub, Some(i)) => Value::int(-i),
                    (UnaryOp::Invert, Some(i)) => Value::int(!i),
                    _ => Value::tainted(v.deep_taint()),
                }
            }
            Expr::BoolOp(b) => {
                let mut out: Option<Value> = None;
                for e in &b.values {
                    let v = self.expr(e);
                    out = Some(match out {
                        None => v,
                        Some(prev) => prev.merge(v),
                    });
                }
                let _ = b.op == BoolOp::And;
                out.unwrap_or_default()
            }
            Expr::If(i) => {
                self.expr(&i.test);
                let a = self.expr(&i.body);
                let b = self.expr(&i.orelse);
                a.merge(b)
            }
            Expr::Named(n) => {
                let v = self.expr(&n.value);
                self.assign(&n.target, v.clone());
                v
            }
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                self.sequence(elts)
            }
            Expr::Set(s) => self.sequence(&s.elts),
            Expr::Dict(d) => {
                let mut v = Value::unknown();
                v.items.reserve_exact(d.items.len().min(MAX_ITEMS));
                v.keys.reserve_exact(d.items.len().min(MAX_ITEMS));
                for item in &d.items {
                    let key = item.key.as_ref().map(|k| self.expr(k));
                    let value = self.expr(&item.value);
                    v.taint |= value.deep_taint();
                    if v.items.len() < MAX_ITEMS {
                        v.keys
                            .push(key.as_ref().and_then(|k| k.exact_str().map(str::to_owned)));
                        v.items.push(value.into_item());
                    }
                }
                v
            }
            Expr::ListComp(c) => self.comprehension(&c.elt, &c.generators),
            Expr::SetComp(c) => self.comprehension(&c.elt, &c.generators),
            Expr::Generator(c) => self.comprehension(&c.elt, &c.generators),
            Expr::DictComp(c) => self.comprehension(&c.value, &c.generators),
            Expr::Lambda(l) => {
                // Its body runs when called; evaluate it for what it reaches.
                let v = self.expr(&l.body);
                Value::tainted(v.deep_taint())
            }
            Expr::Await(a) => self.expr(&a.value),
            Expr::Yield(y) => y.value.as_ref().map(|v| self.expr(v)).unwrap_or_default(),
            Expr::YieldFrom(y) => self.expr(&y.value),
            Expr::Compare(c) => {
                self.expr(&c.left);
                for e in c.comparators.iter() {
                    self.expr(e);
                }
                Value::unknown()
            }
            Expr::Starred(s) => self.expr(&s.value),
            Expr::Slice(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_)
            | Expr::TString(_)
            | Expr::IpyEscapeCommand(_) => Value::unknown(),
        }
    }

    fn sequence(&mut self, elts: &'a [Expr]) -> Value {
        let mut v = Value::unknown();
        // Sized once: a long literal (a table of thousands of tuples) would
        // otherwise be moved again at every growth.
        v.items.reserve_exact(elts.len().min(MAX_ITEMS));
        for e in elts {
            let item = self.expr(e);
            v.taint |= item.deep_taint();
            if v.items.len() < MAX_ITEMS {
                v.items.push(item.into_item());
            }
        }
        v
    }

    /// One element of an iterable: a character of a string, or any of its items.
    fn element_of(&self, iter: &Value) -> Value {
        let taint = iter.deep_taint();
        Value::tainted(taint)
    }

    /// `[elt for x in iterable]`: folded element by element when the iterable is a
    /// known constant or list (as `chr(c) for c in [101, 120, …]` is), else its taint.
    fn comprehension(&mut self, elt: &'a Expr, generators: &'a [ast::Comprehension]) -> Value {
        let Some(first) = generators.first() else {
            return Value::unknown();
        };
        let iter = self.expr(&first.iter);
        let elements: Option<Vec<Value>> = if generators.len() == 1 && first.ifs.is_empty() {
            match (&iter.konst, iter.items.is_empty()) {
                (Some(Const::Str(s)), _) if !s.contains(UNKNOWN) => Some(
                    s.chars()
                        .map(|c| Value::str(c.to_string(), false))
                        .collect(),
                ),
                (Some(Const::Bytes(b)), _) => {
                    Some(b.iter().map(|&x| Value::int(i64::from(x))).collect())
                }
                (None, false) => Some(iter.items.clone()),
                _ => None,
            }
        } else {
            None
        };
        if let Some(elements) = elements {
            if elements.len() <= MAX_ITEMS && elements.len() <= self.budget {
                self.budget -= elements.len();
                let mut out = Value::unknown();
                for e in elements {
                    let taint = e.deep_taint();
                    self.assign(&first.target, e);
                    let v = self.expr(elt);
                    out.taint |= v.deep_taint() | taint;
                    out.items.push(v.into_item());
                }
                out.taint |= iter.taint;
                return out;
            }
        }
        let item = self.element_of(&iter);
        self.assign(&first.target, item);
        for g in generators.iter().skip(1) {
            let it = self.expr(&g.iter);
            let item = self.element_of(&it);
            self.assign(&g.target, item);
        }
        for g in generators {
            for cond in &g.ifs {
                self.expr(cond);
            }
        }
        let v = self.expr(elt);
        Value::tainted(v.deep_taint() | iter.deep_taint())
    }

    fn binop(&mut self, left: Value, op: Operator, right: Value) -> Value {
        let taint = left.deep_taint() | right.deep_taint();
        let folded = |v: Value| v.with_taint(taint);
        match (op, &left.konst, &right.konst) {
            (Operator::Add, Some(Const::Str(a)), Some(Const::Str(b))) => {
                folded(Value::str(format!("{a}{b}"), true))
            }
            (Operator::Add, Some(Const::Bytes(a)), Some(Const::Bytes(b))) => {
                let mut v = a.clone();
                v.extend_from_slice(b);
                folded(Value::bytes(v, true))
            }
            (Operator::Add, Some(Const::Int(a)), Some(Const::Int(b))) => {
                Value::int(a.wrapping_add(*b))
            }
            (Operator::Sub, Some(Const::Int(a)), Some(Const::Int(b))) => {
                Value::int(a.wrapping_sub(*b))
            }
            (Operator::Mult, Some(Const::Int(a)), Some(Const::Int(b))) => {
                Value::int(a.wrapping_mul(*b))
            }
            (Operator::BitXor, Some(Const::Int(a)), Some(Const::Int(b))) => {
                Value::int(a ^ b).with_taint(taint | Taint::DECODED)
            }
            (Operator::BitAnd, Some(Const::Int(a)), Some(Const::Int(b))) => Value::int(a & b),
            (Operator::BitOr, Some(Const::Int(a)), Some(Const::Int(b))) => Value::int(a | b),
            (Operator::Mod, Some(Const::Int(a)), Some(Const::Int(b))) if *b != 0 => {
                Value::int(a.rem_euclid(*b))
            }
            (Operator::FloorDiv, Some(Const::Int(a)), Some(Const::Int(b))) if *b != 0 => {
                Value::int(a.div_euclid(*b))
            }
            (Operator::Mult, Some(Const::Str(s)), Some(Const::Int(n)))
            | (Operator::Mult, Some(Const::Int(n)), Some(Const::Str(s))) => {
                let n = usize::try_from(*n).unwrap_or(0);
                if s.len().saturating_mul(n) > MAX_CONST_BYTES {
                    Value::tainted(taint)
                } else {
                    folded(Value::str(s.repeat(n), true))
                }
            }
            (Operator::Mult, Some(Const::Bytes(s)), Some(Const::Int(n))) => {
                let n = usize::try_from(*n).unwrap_or(0);
                if s.len().saturating_mul(n) > MAX_CONST_BYTES {
                    Value::tainted(taint)
                } else {
                    folded(Value::bytes(s.repeat(n), true))
                }
            }
            (Operator::Add, _, _) if left.text().is_some() || right.text().is_some() => {
                concat(&[&left, &right])
            }
            (Operator::Div, _, _) if left.text().is_some() || right.text().is_some() => {
                // pathlib: `Path.home() / ".ssh" / "id_rsa"`.
                let sep = Value::str("/", false);
                let mut v = concat(&[&left, &sep, &right]);
                if v.text().is_some_and(known::credential_path) {
                    v.taint |= Taint::CREDENTIAL;
                }
                v
            }
            (Operator::Mod, Some(Const::Str(_)), _) => {
                let args: Vec<Value> = if right.items.is_empty() {
                    vec![right.clone()]
                } else {
                    right.items.clone()
                };
                folded(percent_format(&left, &args))
            }
            (Operator::BitXor, _, _) => Value::tainted(taint | Taint::DECODED),
            _ => Value::tainted(taint),
        }
    }

    fn attribute(&mut self, base: Value, attr: &str, dynamic: bool) -> Value {
        let hidden = if dynamic {
            Taint::HIDDEN_NAME
        } else {
            Taint::NONE
        };
        if let Some(sym) = &base.sym {
            if attr == "__call__" {
                return base;
            }
            if attr == "__dict__" {
                return Value::sym(format!("ns:{sym}")).with_taint(base.taint);
            }
            // Methods of this module's classes, through `self.m` or `Class.m`.
            if let Some(class) = sym
                .strip_prefix("self:")
                .or_else(|| sym.strip_prefix("class:"))
            {
                let method = format!("{class}.{attr}");
                if self.functions.contains_key(&method) {
                    return Value::sym(format!("local:{method}"));
                }
                return Value::tainted(base.taint);
            }
            let full = format!("{sym}.{attr}");
            let mut v = Value::sym(full.clone()).with_taint(base.taint | hidden);
            if full == "os.environ" {
                v.taint |= Taint::ENV;
            }
            if full == "pathlib.Path.home" || full == "Path.home" {
                v.sym = Some("pathlib.Path.home".into());
            }
            return v;
        }
        // Attributes of data carry the data's taint (`response.text`).
        let mut v = Value::tainted(base.deep_taint());
        if matches!(attr, "real" | "imag") {
            v.konst = None;
        }
        v
    }

    fn subscript(&mut self, s: &'a ast::ExprSubscript) -> Value {
        let base = self.expr(&s.value);
        if let Expr::Slice(slice) = &*s.slice {
            let lower = slice.lower.as_ref().map(|e| self.expr(e));
            let upper = slice.upper.as_ref().map(|e| self.expr(e));
            let step = slice.step.as_ref().map(|e| self.expr(e));
            return slice_const(&base, lower, upper, step);
        }
        let key = self.expr(&s.slice);
        // Dynamic lookups of names: `globals()['eval']`, `__builtins__['exec']`,
        // `vars(builtins)['exec']`, `os.__dict__['system']`, `sys.modules['os']`.
        if let (Some(sym), Some(name)) = (&base.sym, key.exact_str()) {
            if let Some(ns) = sym.strip_prefix("ns:") {
                let v = if ns == "globals" {
                    self.lookup(name)
                } else {
                    Value::sym(format!("{ns}.{name}"))
                };
                return v.with_taint(Taint::HIDDEN_NAME | base.taint);
            }
            if sym == "builtins" {
                return Value::sym(format!("builtins.{name}")).with_taint(Taint::HIDDEN_NAME);
            }
            if sym == "sys.modules" {
                return Value::sym(name.to_owned()).with_taint(Taint::HIDDEN_NAME);
            }
            if sym == "os.environ" {
                return env_value(name);
            }
        }
        if base.sym.as_deref() == Some("os.environ") {
            return Value::unknown();
        }
        if !base.keys.is_empty() {
            if let Some(name) = key.exact_str() {
                if let Some(i) = base.keys.iter().position(|k| k.as_deref() == Some(name)) {
                    return base.items[i].clone();
                }
            }
            // An unknown key: any of the values, as a dispatch table would give.
            let mut v = Value::tainted(base.deep_taint());
            v.items = base.items.clone();
            return v;
        }
        if let (Some(i), false) = (key.int_value(), base.items.is_empty()) {
            let len = base.items.len() as i64;
            let at = if i < 0 { len + i } else { i };
            if let Some(item) = usize::try_from(at).ok().and_then(|at| base.items.get(at)) {
                return item.clone();
            }
        }
        if let (Some(i), Some(Const::Str(text))) = (key.int_value(), &base.konst) {
            let chars: Vec<char> = text.chars().collect();
            let len = chars.len() as i64;
            let at = if i < 0 { len + i } else { i };
            if let Some(c) = usize::try_from(at).ok().and_then(|at| chars.get(at)) {
                return Value::str(c.to_string(), true).with_taint(base.taint);
            }
        }
        Value::tainted(base.deep_taint() | key.taint)
    }

    // ---- calls ---------------------------------------------------------------------

    fn call(&mut self, call: &'a ast::ExprCall) -> Value {
        let at = self
            .anchor
            .unwrap_or_else(|| call.range().start().to_usize());
        let args: Vec<Value> = call.arguments.args.iter().map(|a| self.expr(a)).collect();
        let keywords: Vec<(Option<&str>, Value)> = call
            .arguments
            .keywords
            .iter()
            .map(|k| (k.arg.as_ref().map(|a| a.as_str()), self.expr(&k.value)))
            .collect();
        let call_args = Args {
            positional: &args,
            keywords: &keywords,
        };
        let arg_names: Vec<&str> = call
            .arguments
            .args
            .iter()
            .filter_map(|a| match a {
                Expr::Name(n) => Some(n.id.as_str()),
                _ => None,
            })
            .collect();
        // Local functions handed to anything may be called by it: a thread target, a
        // callback, `atexit.register`.
        for v in args.iter().chain(keywords.iter().map(|(_, v)| v)) {
            if let Some(name) = v.sym.as_deref().and_then(|s| s.strip_prefix("local:")) {
                self.reach(name);
            }
        }
        if call
            .arguments
            .keywords
            .iter()
            .any(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "LD_PRELOAD"))
        {
            self.facts.ld_preload.get_or_insert(at);
        }
        if args
            .iter()
            .chain(keywords.iter().map(|(_, v)| v))
            .any(|v| v.deep_taint().has(Taint::CREDENTIAL))
        {
            let frame = self.frames.last_mut().expect("a frame while walking");
            frame.credential_use.get_or_insert(at);
        }
        let value = if let Expr::Attribute(a) = &*call.func {
            let receiver = self.expr(&a.value);
            let method = a.attr.as_str();
            let receiver_taint = receiver.deep_taint();
            // Data written into an object reaches the buffer or file handed in:
            // `img.save(buf)`, `json.dump(data, f)`.
            let writes_into = matches!(
                method,
                "save" | "dump" | "write" | "writestr" | "tofile" | "to_file" | "savefig"
            );
            if writes_into {
                let t = receiver_taint | call_args.taint();
                for name in &arg_names {
                    self.taint_name(name, t);
                }
            }
            // What is handed to an object's method reaches the object: `zip.write(p)`.
            if let Expr::Name(n) = &*a.value {
                let is_data = receiver.sym.as_deref().is_none_or(|s| s.ends_with("()"));
                if is_data && !matches!(method, "get" | "join" | "format" | "replace") {
                    self.taint_name(n.id.as_str(), call_args.taint());
                }
            }
            if method == "__getattribute__" {
                let name = args.first().cloned().unwrap_or_default();
                let getattr = Value::sym("builtins.getattr").with_taint(Taint::HIDDEN_NAME);
                let positional = vec![receiver, name];
                let a = Args {
                    positional: &positional,
                    keywords: &[],
                };
                return self
                    .builtin("getattr", &getattr, &a, at)
                    .unwrap_or_default();
            }
            if method == "get"
                && receiver
                    .sym
                    .as_deref()
                    .is_some_and(|s| s.starts_with("ns:"))
            {
                if let Some(name) = args.first().and_then(Value::exact_str) {
                    let ns = receiver
                        .sym
                        .as_deref()
                        .unwrap_or("")
                        .trim_start_matches("ns:")
                        .to_owned();
                    let v = if ns == "globals" {
                        self.lookup(name)
                    } else {
                        Value::sym(format!("{ns}.{name}"))
                    };
                    return v.with_taint(Taint::HIDDEN_NAME);
                }
            }
            if receiver.sym.is_none() {
                return self.method(receiver, method, &a.value, &call_args, at);
            }
            let hidden = &self.src[a.attr.range().to_std_range()] != method;
            let mut callee = self.attribute(receiver, method, false);
            if hidden {
                callee.taint |= Taint::HIDDEN_NAME;
            }
            self.call_value(callee, &call_args, at)
        } else {
            let callee = self.expr(&call.func);
            if matches!(
                callee.sym.as_deref(),
                Some("json.dump" | "pickle.dump" | "plistlib.dump" | "yaml.dump" | "marshal.dump")
            ) {
                let t = call_args.taint();
                for name in &arg_names {
                    self.taint_name(name, t);
                }
            }
            self.call_value(callee, &call_args, at)
        };
        let mut value = value;
        // An object built around names (`ZipFile(buf)`) carries them.
        if value.sym.as_deref().is_some_and(|s| s.ends_with("()")) && value.wraps.is_empty() {
            value.wraps = arg_names.iter().map(|n| (*n).to_owned()).collect();
        }
        value
    }

    fn reach(&mut self, name: &str) {
        if self.recording && self.place() != Place::Call && self.reached.insert(name.to_owned()) {
            self.pending.push(name.to_owned());
        }
    }

    /// A method of a value whose type is not known: strings, bytes, files, lists.
    fn method(
        &mut self,
        receiver: Value,
        method: &str,
        receiver_expr: &Expr,
        args: &Args<'_>,
        at: usize,
    ) -> Value {
        let arg_taint = args.taint();
        let taint = receiver.deep_taint() | arg_taint;
        match method {
            "join" if receiver.text().is_some() => {
                let Some(list) = args.positional.first() else {
                    return Value::unknown();
                };
                let sep = receiver.text().unwrap_or_default().to_owned();
                if !list.items.is_empty() && list.items.iter().all(|i| i.text().is_some()) {
                    let parts: Vec<String> =
                        list.items.iter().map(Value::text_or_unknown).collect();
                    let mut v = Value::str(parts.join(&sep), true).with_taint(taint);
                    if v.text().is_some_and(known::credential_path) {
                        v.taint |= Taint::CREDENTIAL;
                    }
                    return v;
                }
                if let Some(Const::Str(s)) = &list.konst {
                    return Value::str(s.clone(), true).with_taint(taint);
                }
                Value::tainted(taint)
            }
            "decode" | "encode" => {
                let codec = args
                    .positional
                    .first()
                    .and_then(Value::exact_str)
                    .unwrap_or("utf-8");
                let codec = codec.to_ascii_lowercase().replace(['-', '_'], "");
                if matches!(
                    codec.as_str(),
                    "rot13" | "hex" | "base64" | "zlib" | "bz2" | "uu" | "unicodeescape"
                ) {
                    return Value::tainted(taint | Taint::DECODED);
                }
                if receiver.konst.is_some() && !plain_codec(&codec) {
                    // Constants kept in EBCDIC or another code page are being hidden.
                    return Value::tainted(taint | Taint::DECODED);
                }
                match &receiver.konst {
                    Some(Const::Bytes(b)) => {
                        Value::str(String::from_utf8_lossy(b).into_owned(), receiver.folded)
                            .with_taint(taint)
                    }
                    Some(Const::Str(s)) => {
                        Value::bytes(s.as_bytes().to_vec(), receiver.folded).with_taint(taint)
                    }
                    _ => Value::tainted(taint),
                }
            }
            "translate" => Value::tainted(taint | Taint::DECODED),
            "replace" | "format" | "strip" | "lstrip" | "rstrip" | "lower" | "upper" | "title" => {
                match (method, &receiver.konst) {
                    ("format", Some(Const::Str(s))) => {
                        let v = brace_format(s, args.positional);
                        v.with_taint(taint)
                    }
                    ("replace", Some(Const::Str(s))) => {
                        match (
                            args.positional.first().and_then(Value::exact_str),
                            args.positional.get(1).and_then(Value::exact_str),
                        ) {
                            (Some(a), Some(b)) if !a.is_empty() => {
                                Value::str(s.replace(a, b), true).with_taint(taint)
                            }
                            _ => Value::tainted(taint),
                        }
                    }
                    (m, Some(Const::Str(s))) => {
                        let out = match m {
                            "strip" => s.trim().to_owned(),
                            "lstrip" => s.trim_start().to_owned(),
                            "rstrip" => s.trim_end().to_owned(),
                            "lower" => s.to_lowercase(),
                            "upper" => s.to_uppercase(),
                            _ => s.clone(),
                        };
                        Value::str(out, receiver.folded).with_taint(taint)
                    }
                    _ => Value::tainted(taint),
                }
            }
            "get" if !receiver.keys.is_empty() => {
                if let Some(name) = args.positional.first().and_then(Value::exact_str) {
                    if let Some(i) = receiver
                        .keys
                        .iter()
                        .position(|k| k.as_deref() == Some(name))
                    {
                        return receiver.items[i].clone();
                    }
                }
                Value::tainted(taint)
            }
            "write" | "writelines" | "write_bytes" | "write_text" => {
                match receiver_path(&receiver) {
                    Some(path) => self.wrote(path, args.positional.first(), at),
                    // A temporary file or a stream: what is written is still judged.
                    None => self.code_written(args.positional.first(), at),
                }
                Value::unknown()
            }
            "append" | "extend" | "add" | "update" | "insert" | "put" | "appendleft" => {
                if let Expr::Name(n) = receiver_expr {
                    self.taint_name(n.id.as_str(), arg_taint);
                }
                Value::unknown()
            }
            _ => {
                let mut v = Value::tainted(taint);
                if let Some(path) = receiver_path(&receiver) {
                    v.sym = None;
                    v.keys = vec![Some(format!("file:{path}"))];
                }
                v
            }
        }
    }

    fn call_value(&mut self, callee: Value, args: &Args<'_>, at: usize) -> Value {
        let Some(sym) = callee.sym.clone() else {
            // A dispatch table: any of its functions may be the one called.
            let candidates: Vec<Value> = callee
                .items
                .iter()
                .filter(|i| {
                    i.sym
                        .as_deref()
                        .and_then(known::kind)
                        .is_some_and(|k| k == Kind::Exec || k == Kind::Process)
                })
                .cloned()
                .collect();
            for mut c in candidates {
                c.taint |= Taint::HIDDEN_NAME;
                self.call_value(c, args, at);
            }
            return Value::tainted(callee.deep_taint() | args.taint());
        };
        if let Some(name) = sym.strip_prefix("local:") {
            return self.call_local(name, args, at);
        }
        if let Some(class) = sym.strip_prefix("class:") {
            self.reach(&format!("{class}.__init__"));
            return Value::sym(format!("self:{class}"));
        }
        if let Some(builtin) = sym.strip_prefix("builtins.") {
            if let Some(v) = self.builtin(builtin, &callee, args, at) {
                return v;
            }
        }
        if let Some(module) = sym.strip_suffix(".<dynamic>") {
            // `getattr(builtins, <computed>)(…)`: a function of a dangerous module
            // whose name is only known at run time.
            if DANGEROUS_MODULES.contains(&module) {
                self.hit(
                    "code.obfuscated-exec",
                    at,
                    Strength::WhenRun,
                    format!(
                        "a function of `{module}` is called through a name computed at run time"
                    ),
                );
                if let Some(text) = args.positional.first().and_then(Value::exact_str) {
                    let text = text.to_owned();
                    self.code_in_string(&text, at);
                }
            }
            return Value::tainted(args.taint());
        }
        if SERIALIZERS.contains(&sym.as_str()) {
            // `json.dump(obj, open(path, "w"))` writes `obj` to `path`.
            if let Some(path) = args.positional.get(1).and_then(receiver_path) {
                self.wrote(path, args.positional.first(), at);
            }
        }
        if let Some(function) = function_from_code(&sym, args) {
            return function;
        }
        if TEMP_FILES.contains(&sym.as_str()) {
            // A temporary file is a file written like any other; its directory is unknown.
            let suffix = args.keyword("suffix").and_then(Value::exact_str);
            return Value {
                keys: vec![Some(format!("write:{UNKNOWN}{}", suffix.unwrap_or("")))],
                ..Value::default()
            };
        }
        if sym == FUNCTION_FROM_CODE {
            // Calling a function made from a code object runs that code: an exec by
            // another name.
            let mut hidden = callee.clone();
            hidden.taint |= Taint::HIDDEN_NAME;
            self.exec_sink(&hidden, callee.items.first(), at);
            return Value::tainted(callee.deep_taint() | args.taint());
        }
        let instance = || Value::sym(format!("{sym}()"));
        let first = args.positional.first();
        match known::kind(&sym) {
            Some(Kind::Exec) => {
                self.exec_sink(&callee, first, at);
                Value::tainted(args.taint())
            }
            Some(Kind::Compile) => compiled(first, args),
            Some(Kind::Import) => self.import(first),
            Some(Kind::Process) => {
                let pip = sym.starts_with("pip.") || sym.starts_with("pip._internal");
                self.process_sink(&callee, args, at, pip);
                // What a command prints about the host is host data.
                let program = args
                    .positional
                    .first()
                    .map(|c| c.items.first().unwrap_or(c).text_or_unknown());
                let enumerates = program.is_some_and(|p| {
                    let first = p.split_whitespace().next().unwrap_or("");
                    let first = first.rsplit(['/', '\\']).next().unwrap_or(first);
                    matches!(
                        first,
                        "whoami"
                            | "hostname"
                            | "ipconfig"
                            | "ifconfig"
                            | "ip"
                            | "systeminfo"
                            | "tasklist"
                            | "net"
                            | "id"
                            | "uname"
                            | "ps"
                            | "netstat"
                    )
                });
                Value::tainted(if enumerates { Taint::HOST } else { Taint::NONE })
            }
            Some(Kind::Network) => {
                self.network_sink(args, at, &sym);
                let mut v = instance();
                v.taint = Taint::FETCHED;
                if sym.ends_with("urlretrieve") {
                    if let Some(path) = args.positional.get(1).or_else(|| args.keyword("filename"))
                    {
                        let key = path_key(path);
                        let fetched = Value::tainted(Taint::FETCHED);
                        self.wrote(key, Some(&fetched), at);
                    }
                }
                v
            }
            Some(Kind::Dns) => {
                self.network_sink(args, at, &sym);
                Value::tainted(Taint::FETCHED)
            }
            Some(Kind::Decoder) => {
                // Decoding what the code carries (a literal, or what was decoded or
                // fetched already) hides a payload; decoding run-time data (a cache
                // entry, a message from a pipe) is ordinary.
                let carried = first.is_some_and(|f| {
                    f.konst.is_some()
                        || f.deep_taint().has(Taint::DECODED)
                        || f.deep_taint().has(Taint::FETCHED)
                        || f.deep_taint().has(Taint::OPAQUE)
                }) || sym.starts_with("codecs.")
                    || sym == "builtins.reversed";
                let decoded = if carried { Taint::DECODED } else { Taint::NONE };
                let mut v = Value::tainted(args.taint() | decoded);
                if let Some(decoded) = first.and_then(|f| decode_const(&sym, f)) {
                    v.konst = Some(decoded);
                    v.folded = true;
                }
                v
            }
            Some(Kind::Source(taint)) => {
                if taint == Taint::CLIPBOARD {
                    self.facts.clipboard_read.get_or_insert(at);
                }
                let mut v = instance();
                v.taint = taint | args.taint();
                v
            }
            Some(Kind::KeyHook) => {
                if self.recording {
                    self.facts.key_hook.get_or_insert(at);
                }
                let callbacks: Vec<String> = args
                    .all()
                    .filter_map(|v| v.sym.as_deref()?.strip_prefix("local:").map(str::to_owned))
                    .collect();
                for callback in callbacks {
                    self.key_callback(&callback, at);
                }
                instance()
            }
            Some(Kind::ClipboardWrite) => {
                if self.recording && first.is_some_and(|f| f.text().is_some()) {
                    self.facts.clipboard_write.get_or_insert(at);
                }
                Value::unknown()
            }
            Some(Kind::Chmod) => {
                if let (Some(path), Some(mode)) = (first, args.positional.get(1)) {
                    let executable = mode.int_value().is_some_and(|m| m & 0o111 != 0)
                        || mode
                            .sym
                            .as_deref()
                            .is_some_and(|s| s.contains("S_IX") || s.contains("S_IEXEC"))
                        || mode.konst.is_none();
                    if executable && self.recording {
                        self.facts.executable.push(path_key(path));
                    }
                }
                Value::unknown()
            }
            Some(Kind::Copy) => {
                if let Some(dst) = args.positional.get(1) {
                    let data = first
                        .map(|f| Value::tainted(f.deep_taint() | self.file_taint(&path_key(f))));
                    self.wrote(path_key(dst), data.as_ref(), at);
                }
                Value::unknown()
            }
            Some(Kind::LoadLibrary) => {
                if let Some(path) = first {
                    self.runs_path(path, at, "a native library that was written out is loaded");
                }
                Value::unknown()
            }
            Some(Kind::Registry) => {
                let run_key = args
                    .all()
                    .filter_map(Value::text)
                    .any(known::persistence_path);
                let into_run_key = first.is_some_and(|k| k.sym.as_deref() == Some("winreg.RunKey"));
                if sym.contains("SetValue") && (run_key || into_run_key) {
                    self.hit(
                        "code.persistence",
                        at,
                        Strength::Always,
                        "a program is registered to start at log-in (a Run key)".into(),
                    );
                    return Value::unknown();
                }
                if run_key {
                    return Value::sym("winreg.RunKey");
                }
                Value::unknown()
            }
            Some(Kind::LoadModule) => {
                let path = if sym == "runpy.run_path" {
                    first
                } else {
                    args.positional.get(1).or(first)
                };
                if let Some(path) = path {
                    self.runs_path(path, at, "Python source this code wrote out is loaded");
                }
                instance()
            }
            Some(Kind::Schedule) => instance(),
            Some(Kind::Injection) => {
                if self.recording {
                    let api = sym.rsplit('.').next().unwrap_or(&sym).to_owned();
                    self.facts.injection.push((api, at));
                }
                Value::unknown()
            }
            None => {
                if self.recording && self.place() != Place::Call && self.depth == 0 {
                    // A function of another module, called where code runs by itself:
                    // the collector judges that function as running here too, if the
                    // package has it.
                    if sym.contains('.') {
                        self.calls_at_top.insert(sym.clone());
                    }
                }
                if sym.ends_with(".fileno") {
                    let mut v = Value::sym(format!("{sym}()"));
                    v.taint = callee.taint;
                    return v;
                }
                if sym == "os.dup2" && first.is_some_and(is_socket) {
                    self.hit(
                        "code.reverse-shell",
                        at,
                        Strength::Always,
                        "a network socket is wired to this process's standard input and output"
                            .into(),
                    );
                }
                if sym == "os.environ.get" || sym == "os.getenv" {
                    return first
                        .and_then(Value::exact_str)
                        .map_or_else(Value::unknown, env_value);
                }
                if matches!(
                    sym.as_str(),
                    "os.environ.copy"
                        | "os.environ.items"
                        | "os.environ.keys"
                        | "os.environ.values"
                ) {
                    return Value::tainted(Taint::ENV);
                }
                if matches!(
                    sym.as_str(),
                    "os.path.expanduser"
                        | "os.path.expandvars"
                        | "os.path.abspath"
                        | "os.path.normpath"
                        | "pathlib.Path"
                        | "pathlib.PurePath"
                        | "os.fsencode"
                        | "os.fsdecode"
                ) {
                    return first.cloned().unwrap_or_default();
                }
                if sym == "pathlib.Path.home" || sym == "os.path.home" {
                    return Value::str("~", false);
                }
                if sym == "os.path.join" || sym == "posixpath.join" || sym == "ntpath.join" {
                    let sep = Value::str("/", false);
                    let mut parts: Vec<&Value> = Vec::new();
                    for (i, p) in args.positional.iter().enumerate() {
                        if i > 0 {
                            parts.push(&sep);
                        }
                        parts.push(p);
                    }
                    let mut v = concat(&parts);
                    if v.text().is_some_and(known::credential_path) {
                        v.taint |= Taint::CREDENTIAL;
                    }
                    return v;
                }
                if sym == "codecs.decode" || sym == "codecs.encode" {
                    let codec = args
                        .positional
                        .get(1)
                        .or_else(|| args.keyword("encoding"))
                        .and_then(Value::exact_str)
                        .unwrap_or("");
                    let codec = codec.to_ascii_lowercase().replace(['-', '_'], "");
                    if matches!(
                        codec.as_str(),
                        "rot13" | "hex" | "base64" | "zlib" | "bz2" | "uu" | "unicodeescape"
                    ) {
                        return Value::tainted(args.taint() | Taint::DECODED);
                    }
                }
                if sym.ends_with("__pyarmor__") {
                    self.hit(
                        "code.exec-decoded-payload",
                        at,
                        Strength::WhenRun,
                        "code runs from a PyArmor-encrypted blob that nobody can review".into(),
                    );
                }
                if matches!(
                    sym.as_str(),
                    "shutil.rmtree" | "os.remove" | "os.unlink" | "os.rmdir" | "os.removedirs"
                ) && first.is_some_and(|p| p.deep_taint().has(Taint::HOME))
                {
                    self.hit(
                        "code.destructive",
                        at,
                        Strength::WhenRun,
                        "files in the user's home directory are deleted".into(),
                    );
                }
                if sym == "pytransform.pyarmor_runtime" || sym.ends_with(".pyarmor_runtime") {
                    self.hit("code.exec-decoded-payload", at, Strength::WhenRun, "PyArmor's runtime starts: the code that follows runs from encrypted blobs nobody can review".into());
                }
                if sym.starts_with("PIL.Image.open")
                    || sym.ends_with(".getdata")
                    || sym.ends_with(".getpixel")
                    || sym.ends_with("lsb.reveal")
                    || sym.contains("stegano")
                {
                    return Value::tainted(args.taint() | Taint::OPAQUE);
                }
                let mut v = instance();
                v.taint = callee.taint | args.taint();
                // A file this code filled with stolen data, opened again by path.
                for a in args.all() {
                    v.taint |= self.file_taint(&path_key(a));
                }
                v
            }
        }
    }

    fn call_local(&mut self, name: &str, args: &Args<'_>, at: usize) -> Value {
        self.reach(name);
        let Some(def) = self.functions.get(name).copied() else {
            return Value::tainted(args.taint());
        };
        let params: Vec<&str> = def
            .parameters
            .iter_non_variadic_params()
            .map(|p| p.parameter.name.as_str())
            .collect();
        // A method called through its instance does not pass `self`.
        let skip =
            usize::from(name.contains('.') && matches!(params.first(), Some(&"self" | &"cls")));
        let arg_for = |i: usize| -> Option<&Value> {
            i.checked_sub(skip)
                .and_then(|j| args.positional.get(j))
                .or_else(|| params.get(i).and_then(|p| args.keyword(p)))
        };
        // Called with constants: evaluated with them, so a decoder's result is known.
        let constant_args = args.all().any(|a| a.konst.is_some() || !a.items.is_empty());
        if constant_args && self.recording && self.inline_depth < 2 && self.inlined < 500 {
            self.inlined += 1;
            let class = name.split_once('.').map(|(c, _)| c.to_owned());
            let function = self.current().function.clone();
            let mut frame = self.frame(function, class, self.place());
            let locals = frame.locals.get_or_insert_with(BTreeMap::new);
            for (i, p) in params.iter().enumerate() {
                let v = arg_for(i).cloned().unwrap_or_default();
                locals.insert((*p).to_owned(), v);
            }
            if skip == 1 {
                let this = name.split_once('.').map(|(c, _)| format!("self:{c}"));
                locals.insert(
                    params[0].to_owned(),
                    this.map(Value::sym).unwrap_or_default(),
                );
            }
            self.inline_depth += 1;
            self.frames.push(frame);
            self.block(&def.body);
            let frame = self.frames.pop().expect("pushed above");
            self.inline_depth -= 1;
            self.frame_end(&frame);
            return frame.summary.ret;
        }
        let Some(summary) = self.summaries.get(name).cloned() else {
            self.summary_missed |= self.functions.contains_key(name);
            return Value::tainted(args.taint());
        };
        let mut v = summary.ret.clone();
        v.taint = summary.ret.taint.without_params();
        for i in summary.ret.taint.params() {
            if let Some(a) = arg_for(i) {
                v.taint |= a.deep_taint();
            }
        }
        for (i, sink) in &summary.param_sinks {
            let Some(arg) = arg_for(*i).cloned() else {
                continue;
            };
            let positional = vec![arg];
            let a = Args {
                positional: &positional,
                keywords: &[],
            };
            match sink {
                Sink::Exec => self.exec_sink(&Value::sym("builtins.exec"), positional.first(), at),
                Sink::Process => self.process_sink(&Value::sym("os.system"), &a, at, false),
                Sink::Network => self.network_sink(&a, at, name),
                Sink::Store => {}
            }
        }
        v
    }

    /// A keyboard hook handed a function of this module: what the function does with
    /// the keys it is given.
    fn key_callback(&mut self, callback: &str, at: usize) {
        let Some(summary) = self.summaries.get(callback).cloned() else {
            self.summary_missed |= self.functions.contains_key(callback);
            return;
        };
        let sinks: Vec<Sink> = summary.param_sinks.iter().map(|(_, s)| *s).collect();
        if sinks
            .iter()
            .any(|s| matches!(s, Sink::Network | Sink::Store | Sink::Process))
        {
            self.hit(
                "code.spyware",
                at,
                Strength::Always,
                "a keyboard hook hands every key to a function that records or sends it: a keylogger".into(),
            );
        }
    }

    /// Checks that need a whole function or module: credentials used where the network is.
    fn frame_end(&mut self, frame: &Frame) {
        if let (Some(_), Some(net)) = (frame.credential_use, frame.network) {
            self.hit(
                "code.credential-exfil",
                net,
                Strength::Always,
                "credential files are collected in code that also sends data over the network"
                    .into(),
            );
        }
    }

    fn builtin(&mut self, name: &str, callee: &Value, args: &Args<'_>, at: usize) -> Option<Value> {
        let first = args.positional.first();
        Some(match name {
            "chr" => match first
                .and_then(Value::int_value)
                .and_then(|i| u32::try_from(i).ok())
                .and_then(char::from_u32)
            {
                // Text built from character codes hides what it says.
                Some(c) => {
                    Value::str(c.to_string(), true).with_taint(args.taint() | Taint::DECODED)
                }
                None => Value::tainted(args.taint() | Taint::DECODED),
            },
            "ord" => match first
                .and_then(Value::exact_str)
                .map(|s| s.chars().collect::<Vec<_>>())
            {
                Some(chars) if chars.len() == 1 => Value::int(i64::from(u32::from(chars[0]))),
                _ => Value::tainted(args.taint()),
            },
            "getattr" => {
                let (Some(obj), Some(attr)) = (first, args.positional.get(1)) else {
                    return Some(Value::unknown());
                };
                match attr.exact_str() {
                    Some(a) => {
                        let dynamic = attr.folded || callee.taint.has(Taint::HIDDEN_NAME);
                        let a = a.to_owned();
                        let mut v = self.attribute(obj.clone(), &a, dynamic);
                        v.taint |= callee.taint;
                        v
                    }
                    None => match &obj.sym {
                        // A name only known at run time.
                        Some(module) if !module.contains(':') => {
                            Value::sym(format!("{module}.<dynamic>"))
                                .with_taint(Taint::HIDDEN_NAME | obj.taint)
                        }
                        _ => Value::tainted(obj.taint | attr.taint),
                    },
                }
            }
            "globals" | "locals" => Value::sym("ns:globals"),
            "vars" => match first.and_then(|f| f.sym.clone()) {
                Some(sym) => Value::sym(format!("ns:{sym}")),
                None if first.is_none() => Value::sym("ns:globals"),
                None => Value::unknown(),
            },
            "__import__" => self.import(first),
            "bytes" | "bytearray" => match first {
                Some(v)
                    if !v.items.is_empty() && v.items.iter().all(|i| i.int_value().is_some()) =>
                {
                    let bytes: Vec<u8> = v
                        .items
                        .iter()
                        .filter_map(Value::int_value)
                        .map(|i| i as u8)
                        .collect();
                    Value::bytes(bytes, true).with_taint(v.deep_taint())
                }
                Some(v) => match &v.konst {
                    Some(Const::Str(s)) => {
                        Value::bytes(s.as_bytes().to_vec(), v.folded).with_taint(v.taint)
                    }
                    _ => Value::tainted(v.deep_taint()),
                },
                None => Value::unknown(),
            },
            "str"
                if matches!(first.map(|f| &f.konst), Some(Some(Const::Bytes(_))))
                    && args.positional.len() > 1 =>
            {
                // `str(b"…", "utf-8")` decodes.
                let f = first.expect("matched");
                match &f.konst {
                    Some(Const::Bytes(b)) => {
                        Value::str(String::from_utf8_lossy(b).into_owned(), true)
                            .with_taint(f.taint)
                    }
                    _ => Value::tainted(f.taint),
                }
            }
            "str" | "list" | "tuple" | "set" | "sorted" | "dict" | "iter" | "repr" | "format" => {
                match first {
                    Some(v) => {
                        let mut v = v.clone();
                        if name == "str" {
                            if let Some(Const::Int(i)) = v.konst {
                                v.konst = Some(Const::Str(i.to_string()));
                            }
                        }
                        if let Some(Const::Str(s)) = &v.konst {
                            if name == "list" || name == "tuple" {
                                v.items = s
                                    .chars()
                                    .take(MAX_ITEMS)
                                    .map(|c| Value::str(c.to_string(), false))
                                    .collect();
                            }
                        }
                        v
                    }
                    None => Value::unknown(),
                }
            }
            "map" => {
                let (Some(f), Some(it)) = (first, args.positional.get(1)) else {
                    return Some(Value::tainted(args.taint()));
                };
                if f.sym.as_deref() == Some("builtins.chr") {
                    if !it.items.is_empty() && it.items.len() <= self.budget {
                        self.budget -= it.items.len();
                        let items: Vec<Value> = it
                            .items
                            .iter()
                            .map(|i| {
                                i.int_value()
                                    .and_then(|n| u32::try_from(n).ok())
                                    .and_then(char::from_u32)
                                    .map_or_else(
                                        || Value::tainted(Taint::DECODED),
                                        |c| Value::str(c.to_string(), true),
                                    )
                            })
                            .collect();
                        let mut v = Value::tainted(it.deep_taint());
                        v.items = items;
                        return Some(v);
                    }
                    return Some(Value::tainted(args.taint() | Taint::DECODED));
                }
                Value::tainted(args.taint())
            }
            "reversed" => match first.and_then(|f| f.exact_str()) {
                Some(s) => {
                    Value::str(s.chars().rev().collect::<String>(), true).with_taint(Taint::DECODED)
                }
                None => {
                    let mut v = Value::tainted(args.taint() | Taint::DECODED);
                    if let Some(f) = first {
                        v.items = f.items.iter().rev().cloned().collect();
                    }
                    v
                }
            },
            "open" => {
                let path = first.cloned().unwrap_or_default();
                let mode = args
                    .positional
                    .get(1)
                    .or_else(|| args.keyword("mode"))
                    .and_then(Value::exact_str)
                    .unwrap_or("r");
                let writing = mode.contains(['w', 'a', 'x', '+']);
                let key = path_key(&path);
                let mut v = Value::tainted(path.taint | self.file_taint(&key));
                if key.starts_with("/proc/") && key.ends_with("/mem") {
                    self.hit(
                        "code.process-memory",
                        at,
                        Strength::Always,
                        "another process's memory is read through /proc".into(),
                    );
                }
                v.keys = vec![Some(if writing {
                    format!("write:{key}")
                } else {
                    format!("file:{key}")
                })];
                if !writing && path.text().is_some_and(known::credential_path) {
                    v.taint |= Taint::CREDENTIAL;
                    self.hit(
                        "code.credential-access",
                        at,
                        Strength::Info,
                        "another program's credentials are read".into(),
                    );
                }
                v
            }
            "eval" if first.and_then(Value::exact_str).is_some_and(is_identifier) => {
                // `eval("exec")` is the builtin `exec` by a name spelled out of sight.
                let name = first.and_then(Value::exact_str).unwrap_or_default();
                self.lookup(name).with_taint(Taint::HIDDEN_NAME)
            }
            "exec" | "eval" => {
                self.exec_sink(callee, first, at);
                Value::tainted(args.taint())
            }
            "compile" => compiled(first, args),
            _ => return None,
        })
    }

    fn import(&mut self, name: Option<&Value>) -> Value {
        match name.and_then(Value::exact_str) {
            Some(n) => {
                let mut v = Value::sym(n.to_owned());
                // `__import__("os")` hides an import of a module that runs things.
                if name.is_some_and(|v| v.folded) || DANGEROUS_MODULES.contains(&n) {
                    v.taint |= Taint::HIDDEN_NAME;
                }
                v
            }
            None => Value::tainted(name.map_or(Taint::NONE, |n| n.taint)),
        }
    }

    // ---- sinks ---------------------------------------------------------------------

    fn exec_sink(&mut self, callee: &Value, code: Option<&Value>, at: usize) {
        let code_taint = code.map_or(Taint::NONE, Value::deep_taint);
        self.note_param_sink(code_taint, Sink::Exec);
        if code_taint.has(Taint::FETCHED) {
            self.hit(
                "code.download-exec",
                at,
                Strength::Always,
                "code fetched from the network is executed".into(),
            );
        } else if code_taint.has(Taint::DECODED) || code_taint.has(Taint::OPAQUE) {
            self.hit(
                "code.exec-decoded-payload",
                at,
                Strength::Always,
                "code is decoded at run time and executed".into(),
            );
        } else if callee.taint.has(Taint::HIDDEN_NAME) {
            self.hit(
                "code.obfuscated-exec",
                at,
                Strength::Always,
                "exec or eval is reached through a name built or looked up at run time".into(),
            );
        }
        let text = code.and_then(|c| match &c.konst {
            Some(Const::Str(s)) if !s.contains(UNKNOWN) => Some(s.clone()),
            Some(Const::Bytes(b)) => std::str::from_utf8(b).ok().map(str::to_owned),
            _ => None,
        });
        match text {
            // Code in a string is judged by what it does.
            Some(text) => self.code_in_string(&text, at),
            None => {
                if self.recording {
                    self.facts.runs_code.get_or_insert(at);
                }
            }
        }
    }

    /// Code kept in a string and executed: analysed as code, in the same place.
    fn code_in_string(&mut self, text: &str, at: usize) {
        if self.depth >= MAX_DEPTH || !self.recording {
            return;
        }
        let Ok(parsed) = ruff_python_parser::parse_module(text) else {
            return;
        };
        let mut inner = Analyzer::new(text, self.place());
        // exec() runs the string among the caller's names: its imports are the code's.
        inner.inherited = self.globals.clone();
        if let Some(locals) = &self.current().locals {
            inner.inherited.extend(locals.clone());
        }
        inner.globals = inner.inherited.clone();
        inner.package = self.package.clone();
        inner.depth = self.depth + 1;
        inner.anchor = Some(at);
        inner.module(&parsed.syntax().body);
        let capability = inner.facts.runs_code.or(inner.facts.network);
        for mut hit in inner.hits {
            hit.offset = at;
            hit.place = self.place();
            hit.function = self.current().function.clone();
            self.hits.push(hit);
        }
        if capability.is_some() {
            self.facts.runs_code.get_or_insert(at);
            self.hit(
                "code.exec-hidden-code",
                at,
                Strength::WhenRun,
                "code kept in a string is executed, and it runs commands, executes more code or uses the network".into(),
            );
        }
    }

    fn process_sink(&mut self, callee: &Value, args: &Args<'_>, at: usize, pip: bool) {
        let mut command: Vec<Value> = match args.positional.first() {
            Some(list) if !list.items.is_empty() => list.items.clone(),
            Some(v) if v.text().is_some() => args.positional.to_vec(),
            Some(v) => vec![v.clone()],
            None => args.keyword("args").into_iter().cloned().collect(),
        };
        if pip {
            command.insert(0, Value::str("pip", false));
        }
        let taint = command.iter().fold(Taint::NONE, |t, v| t | v.deep_taint());
        self.note_param_sink(taint, Sink::Process);
        if self.recording {
            self.facts.runs_code.get_or_insert(at);
        }
        let text: String = command
            .iter()
            .map(Value::text_or_unknown)
            .collect::<Vec<_>>()
            .join(" ");
        if callee.taint.has(Taint::HIDDEN_NAME) {
            self.hit(
                "code.obfuscated-exec",
                at,
                Strength::Always,
                "a process is started through a name built or looked up at run time".into(),
            );
        }
        if taint.has(Taint::FETCHED) {
            self.hit(
                "code.download-exec",
                at,
                Strength::WhenRun,
                "a command fetched from the network is run".into(),
            );
        } else if taint.has(Taint::DECODED) || taint.has(Taint::OPAQUE) {
            self.hit(
                "code.exec-decoded-payload",
                at,
                Strength::Always,
                "a command is decoded at run time and run".into(),
            );
        }
        let sent = taint & Taint::SENSITIVE;
        if sent != Taint::NONE && sends_data(&text) {
            self.hit(
                exfil_rule(sent),
                at,
                exfil_strength(sent),
                format!(
                    "{} is handed to a command that sends it over the network",
                    sent.describe()
                ),
            );
        }
        let verdict = command::judge(&text);
        if let Some(v) = verdict {
            let strength = if v.only_when_run {
                Strength::WhenRun
            } else {
                Strength::Always
            };
            self.hit(v.rule, at, strength, v.why.into());
        }
        if ["stdin", "stdout"]
            .iter()
            .any(|k| args.keyword(k).is_some_and(is_socket))
        {
            self.hit(
                "code.reverse-shell",
                at,
                Strength::Always,
                "a process's input or output is a network socket".into(),
            );
        }
        // `python -c "<code>"`: the code is judged as code.
        if let Some(code) = python_c_code(&command, &text) {
            self.code_in_string(&code, at);
        }
        if let Some(first) = command.first() {
            self.runs_path(first, at, "a file this code wrote out is started");
        }
        let hidden_window = args.keywords.iter().any(|(k, v)| {
            matches!(*k, Some("creationflags" | "startupinfo"))
                || *k == Some("start_new_session") && v.int_value() == Some(1)
        });
        let discarded = ["stdout", "stderr"].iter().all(|k| {
            args.keyword(k)
                .is_some_and(|v| v.sym.as_deref() == Some("subprocess.DEVNULL"))
        });
        if hidden_window || discarded {
            self.hit(
                "code.silent-subprocess",
                at,
                Strength::WhenRun,
                "a process is started hidden, detached or with its output thrown away".into(),
            );
        }
        if self.current().install_command {
            self.hit(
                "install.cmdclass-command",
                at,
                Strength::Always,
                "an overridden install command starts a process".into(),
            );
        } else if self.place() == Place::Install && verdict.is_none() {
            let program = command
                .first()
                .map(Value::text_or_unknown)
                .unwrap_or_default();
            match foreign_program(&program, command.first()) {
                Some(name) => self.hit(
                    "install.setup-command",
                    at,
                    Strength::Always,
                    format!("setup.py starts `{name}`, which is not a build tool, on every install from source"),
                ),
                None => self.hit("install.setup-command", at, Strength::Info, "setup.py runs a command, which happens on every install from source".into()),
            }
        }
    }

    /// A path that this module wrote out is started or loaded.
    fn runs_path(&mut self, path: &Value, at: usize, why: &str) {
        let key = path_key(path);
        if key.is_empty() || key == UNKNOWN.to_string() {
            return;
        }
        let function = self.frames.last().and_then(|f| f.function.clone());
        let written = self.facts.written.iter().find(|w| {
            let bare = w.path.trim_start_matches(UNKNOWN);
            let same = w.path == key || bare.len() > 4 && key.contains(bare);
            // A path known only by its shape (`?/?/?`) is the same file only within
            // one function: a dropper writes and starts it in one place.
            same && (spelled_out(&w.path) || w.function == function)
        });
        if let Some(written) = written {
            if written.literal_text {
                // A script this code spells out (a shim, a launcher) was judged as
                // code when it was written.
                return;
            }
            if written.taint.has(Taint::FETCHED) {
                // Installers do this on purpose (get-pip, nodeenv): a threat where
                // it runs by itself, not in a function somebody calls.
                self.hit(
                    "code.download-exec",
                    at,
                    Strength::WhenRun,
                    "a file downloaded by this code is started".into(),
                );
            } else {
                self.hit("binary.drop-exec", at, Strength::Always, why.to_owned());
            }
        }
    }

    /// What was written to the file at `key`, as far as this module knows.
    fn file_taint(&self, key: &str) -> Taint {
        if key.is_empty() {
            return Taint::NONE;
        }
        self.facts
            .written
            .iter()
            .filter(|w| w.path == key)
            .fold(Taint::NONE, |t, w| t | (w.taint & Taint::SENSITIVE))
    }

    fn network_sink(&mut self, args: &Args<'_>, at: usize, _sym: &str) {
        let taint = args.taint();
        self.note_param_sink(taint, Sink::Network);
        if self.recording {
            self.facts.network.get_or_insert(at);
        }
        self.frames
            .last_mut()
            .expect("a frame while walking")
            .network
            .get_or_insert(at);
        let sent = taint & Taint::SENSITIVE;
        if sent != Taint::NONE {
            self.hit(
                exfil_rule(sent),
                at,
                exfil_strength(sent),
                format!("{} is sent over the network", sent.describe()),
            );
        }
        if self.place() == Place::Install {
            self.hit(
                "install.setup-network",
                at,
                Strength::Always,
                "setup.py touches the network, which runs on every install from source".into(),
            );
        }
    }

    fn wrote(&mut self, path: String, data: Option<&Value>, at: usize) {
        if !self.recording {
            return;
        }
        let taint = data.map_or(Taint::NONE, Value::deep_taint);
        self.facts.file_write.get_or_insert(at);
        if known::persistence_path(&path) {
            self.hit(
                "code.persistence",
                at,
                Strength::WhenRun,
                "a shell start-up file or autostart entry is written".into(),
            );
        }
        let stolen = taint & (Taint::CREDENTIAL | Taint::KEYS | Taint::CLIPBOARD);
        if stolen != Taint::NONE {
            self.hit(
                exfil_rule(stolen),
                at,
                Strength::WhenRun,
                format!("{} is copied into another file", stolen.describe()),
            );
        }
        self.code_written(data, at);
        let literal_text =
            taint == Taint::NONE && data.is_some_and(|d| d.exact_str().is_some() && !d.folded);
        self.facts.written.push(Written {
            path,
            taint,
            literal_text,
            function: self.frames.last().and_then(|f| f.function.clone()),
        });
    }

    /// Code written out to run later (a dropper's second stage) is judged as code.
    fn code_written(&mut self, data: Option<&Value>, at: usize) {
        if !self.recording {
            return;
        }
        let text = data.and_then(Value::text).filter(|t| !t.contains(UNKNOWN));
        if let Some(text) = text {
            if text.contains("import") || text.contains("exec") {
                let text = text.to_owned();
                self.code_in_string(&text, at);
            }
        }
    }

    fn note_param_sink(&mut self, taint: Taint, sink: Sink) {
        if self.recording {
            return;
        }
        let frame = self.frames.last_mut().expect("a frame while walking");
        for i in taint.params() {
            if !frame.summary.param_sinks.contains(&(i, sink)) {
                frame.summary.param_sinks.push((i, sink));
            }
        }
    }

    fn hit(&mut self, rule: &'static str, offset: usize, strength: Strength, why: String) {
        if !self.recording {
            return;
        }
        let offset = self.anchor.unwrap_or(offset);
        let (place, function) = self
            .frames
            .last()
            .map_or((self.top, None), |f| (f.place, f.function.clone()));
        if self
            .hits
            .iter()
            .any(|h| h.rule == rule && h.offset == offset)
        {
            return;
        }
        self.hits.push(Hit {
            rule,
            offset,
            why,
            place,
            function,
            strength,
        });
    }
}

impl std::ops::BitAnd for Taint {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        if self.has(rhs) {
            // Keep only the shared flags.
            let mut out = Self::NONE;
            for flag in [
                Self::DECODED,
                Self::FETCHED,
                Self::ENV,
                Self::SECRET,
                Self::CREDENTIAL,
                Self::CLIPBOARD,
                Self::KEYS,
                Self::SCREEN,
                Self::HOST,
                Self::HIDDEN_NAME,
                Self::OPAQUE,
            ] {
                if self.has(flag) && rhs.has(flag) {
                    out |= flag;
                }
            }
            out
        } else {
            Self::NONE
        }
    }
}

/// The rule for sensitive data leaving: credentials and the environment, or what a
/// spy collects, or host details.
fn exfil_rule(taint: Taint) -> &'static str {
    if taint.has(Taint::CREDENTIAL | Taint::ENV | Taint::SECRET) {
        "code.credential-exfil"
    } else if taint.has(Taint::KEYS | Taint::SCREEN | Taint::CLIPBOARD) {
        "code.spyware"
    } else {
        "code.host-beacon"
    }
}

/// Host details and named secrets are sent by ordinary clients (telemetry, API keys);
/// only where the code runs by itself is that a threat. Files of other programs, the
/// whole environment, keystrokes and screens are a threat anywhere.
fn exfil_strength(taint: Taint) -> Strength {
    if taint.has(Taint::CREDENTIAL | Taint::ENV | Taint::KEYS | Taint::SCREEN | Taint::CLIPBOARD) {
        Strength::Always
    } else {
        Strength::WhenRun
    }
}

fn env_value(name: &str) -> Value {
    let upper = name.to_ascii_uppercase();
    let mut v = match upper.as_str() {
        "HOME" | "USERPROFILE" => Value::str("~", false),
        _ => Value::str(format!("%{upper}%"), false),
    };
    if known::secret_env(name) {
        v.taint |= Taint::SECRET;
    } else if known::host_env(name) {
        v.taint |= Taint::HOST;
    }
    v
}

fn is_socket(v: &Value) -> bool {
    v.sym.as_deref().is_some_and(|s| {
        s.starts_with("socket.socket()") || s.starts_with("socket.create_connection()")
    })
}

fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    let names_main = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    (names_main(&c.left) && c.comparators.iter().any(is_main))
        || (is_main(&c.left) && c.comparators.iter().any(names_main))
}

/// A stable key for a path value: its text where known (possibly partial).
fn path_key(path: &Value) -> String {
    if let Some(k) = path.keys.first().and_then(|k| k.as_deref()) {
        if let Some(rest) = k.strip_prefix("file:").or_else(|| k.strip_prefix("write:")) {
            return rest.to_owned();
        }
    }
    path.text().map(str::to_owned).unwrap_or_default()
}

/// The path a file object was opened for writing, from `open(p, 'w')`.
fn receiver_path(v: &Value) -> Option<String> {
    v.keys
        .first()
        .and_then(|k| k.as_deref())
        .and_then(|k| k.strip_prefix("write:"))
        .map(str::to_owned)
}

fn slice_const(
    base: &Value,
    lower: Option<Value>,
    upper: Option<Value>,
    step: Option<Value>,
) -> Value {
    let get = |v: &Option<Value>| v.as_ref().and_then(Value::int_value);
    let (lo, hi, st) = (get(&lower), get(&upper), get(&step).unwrap_or(1));
    let known = |v: &Option<Value>| v.is_none() || v.as_ref().and_then(Value::int_value).is_some();
    let Some(text) = base.exact_str() else {
        let mut taint = base.deep_taint();
        if st < 0 {
            taint |= Taint::DECODED;
        }
        return Value::tainted(taint);
    };
    if !(known(&lower) && known(&upper)) || st == 0 {
        return Value::tainted(base.taint);
    }
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len() as i64;
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
    let out: String = if st > 0 {
        let (a, b) = (norm(lo.unwrap_or(0)), norm(hi.unwrap_or(len)));
        (a..b)
            .step_by(st as usize)
            .map(|i| chars[i as usize])
            .collect()
    } else {
        let a = lo.map_or(len - 1, |i| if i < 0 { len + i } else { i.min(len - 1) });
        let b = hi.map_or(-1, |i| if i < 0 { len + i } else { i });
        let mut out = String::new();
        let mut i = a;
        while i > b && i >= 0 {
            out.push(chars[i as usize]);
            i += st;
        }
        out
    };
    let mut v = Value::str(out, true).with_taint(base.taint);
    if st < 0 {
        v.taint |= Taint::DECODED;
    }
    v
}

/// `'%s/%s' % (a, b)` with what is known of the arguments.
fn percent_format(template: &Value, args: &[Value]) -> Value {
    let Some(Const::Str(t)) = &template.konst else {
        return Value::unknown();
    };
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('%') => {
                chars.next();
                out.push('%');
            }
            Some(_) => {
                // Skip flags and width up to the conversion letter.
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
                out.push_str(
                    &next
                        .next()
                        .map_or_else(|| UNKNOWN.to_string(), Value::text_or_unknown),
                );
            }
            None => out.push('%'),
        }
    }
    let taint = args.iter().fold(Taint::NONE, |t, a| t | a.deep_taint());
    Value::str(out, true).with_taint(taint)
}

/// `'{} {}'.format(a, b)` with what is known of the arguments.
fn brace_format(template: &str, args: &[Value]) -> Value {
    let mut out = String::new();
    let mut next = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            out.push('{');
            rest = stripped;
            continue;
        }
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let field = &after[..close];
        let index = field
            .split([':', '!'])
            .next()
            .unwrap_or("")
            .parse::<usize>()
            .ok()
            .unwrap_or_else(|| {
                next += 1;
                next - 1
            });
        out.push_str(
            &args
                .get(index)
                .map_or_else(|| UNKNOWN.to_string(), Value::text_or_unknown),
        );
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    let taint = args.iter().fold(Taint::NONE, |t, a| t | a.deep_taint());
    Value::str(out, true).with_taint(taint)
}

/// Decodes constants the way the named decoder would, where that is cheap and exact.
fn decode_const(sym: &str, input: &Value) -> Option<Const> {
    let text = match &input.konst {
        Some(Const::Str(s)) if !s.contains(UNKNOWN) => s.as_bytes().to_vec(),
        Some(Const::Bytes(b)) => b.clone(),
        _ => return None,
    };
    match sym {
        "builtins.bytes.fromhex"
        | "builtins.bytearray.fromhex"
        | "binascii.unhexlify"
        | "binascii.a2b_hex" => {
            let clean: Vec<u8> = text
                .into_iter()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            if !clean.len().is_multiple_of(2) {
                return None;
            }
            let mut out = Vec::with_capacity(clean.len() / 2);
            for pair in clean.chunks(2) {
                let s = std::str::from_utf8(pair).ok()?;
                out.push(u8::from_str_radix(s, 16).ok()?);
            }
            Some(Const::Bytes(out))
        }
        "base64.b64decode"
        | "base64.standard_b64decode"
        | "base64.decodebytes"
        | "binascii.a2b_base64"
        | "base64.urlsafe_b64decode" => {
            base64_decode(&text, sym == "base64.urlsafe_b64decode").map(Const::Bytes)
        }
        _ => None,
    }
}

fn base64_decode(input: &[u8], urlsafe: bool) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' if !urlsafe => 62,
            b'/' if !urlsafe => 63,
            b'-' if urlsafe => 62,
            b'_' if urlsafe => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in input {
        if c == b'=' || c.is_ascii_whitespace() {
            continue;
        }
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Whether a command line sends data somewhere: the tools that do.
fn sends_data(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower
        .split(|c: char| c.is_whitespace() || "|;&()'\"`".contains(c))
        .map(|t| t.rsplit(['/', '\\']).next().unwrap_or(t))
        .any(|t| {
            matches!(
                t,
                "curl"
                    | "wget"
                    | "nc"
                    | "ncat"
                    | "netcat"
                    | "scp"
                    | "ssh"
                    | "ftp"
                    | "tftp"
                    | "sftp"
                    | "rsync"
                    | "invoke-webrequest"
                    | "invoke-restmethod"
                    | "nslookup"
                    | "dig"
            )
        })
}

/// The code of `python -c "<code>"`, as a list or as one string.
fn python_c_code(command: &[Value], text: &str) -> Option<String> {
    if let Some(i) = command.iter().position(|v| v.exact_str() == Some("-c")) {
        let program = &command[..i];
        let python = program.iter().any(|v| {
            v.sym.as_deref() == Some("sys.executable")
                || v.text().is_some_and(|t| t.contains("python"))
        });
        if python {
            return command
                .get(i + 1)
                .and_then(Value::exact_str)
                .map(str::to_owned);
        }
        return None;
    }
    let at = text.find("python")?;
    let rest = &text[at..];
    let flag = rest.find(" -c ")?;
    let code = rest[flag + 4..].trim_start();
    let quote = code.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &code[1..];
    let end = body.rfind(quote)?;
    Some(body[..end].replace("\\\"", "\"").replace("\\'", "'"))
}

/// The program a setup.py command starts, when it is known and not a build tool.
fn foreign_program(program: &str, value: Option<&Value>) -> Option<String> {
    if value.is_some_and(|v| v.sym.as_deref() == Some("sys.executable")) {
        return None;
    }
    let first = program.split_whitespace().next()?;
    if first.contains(UNKNOWN) || first.is_empty() {
        return None;
    }
    let base = first.rsplit(['/', '\\']).next().unwrap_or(first);
    let base = base.trim_end_matches(".exe");
    const BUILD_TOOLS: &[&str] = &[
        "git",
        "hg",
        "svn",
        "cmake",
        "make",
        "gmake",
        "ninja",
        "meson",
        "gcc",
        "g++",
        "cc",
        "c++",
        "clang",
        "clang++",
        "cl",
        "link",
        "nvcc",
        "pkg-config",
        "xcrun",
        "uname",
        "sw_vers",
        "lsb_release",
        "ldconfig",
        "cython",
        "swig",
        "pg_config",
        "mysql_config",
        "rustc",
        "cargo",
        "node",
        "npm",
        "yarn",
        "ar",
        "ranlib",
        "strip",
        "install_name_tool",
        "otool",
        "python",
        "python3",
        "sh",
        "bash",
        "autoreconf",
        "autoconf",
        "configure",
        "./configure",
        "msbuild",
        "nmake",
        "gfortran",
        "f2py",
        "protoc",
        "which",
        "where",
        "brew",
        "pip",
        "pip3",
    ];
    if BUILD_TOOLS.contains(&base) || base.starts_with("python") || base.starts_with("gcc-") {
        return None;
    }
    Some(base.to_owned())
}

/// A call's arguments.
struct Args<'v> {
    positional: &'v [Value],
    keywords: &'v [(Option<&'v str>, Value)],
}

impl Args<'_> {
    fn keyword(&self, name: &str) -> Option<&Value> {
        self.keywords
            .iter()
            .find(|(k, _)| *k == Some(name))
            .map(|(_, v)| v)
    }

    fn all(&self) -> impl Iterator<Item = &Value> {
        self.positional
            .iter()
            .chain(self.keywords.iter().map(|(_, v)| v))
    }

    /// The taint of everything passed, except a process's environment and working
    /// directory, which are configuration rather than data.
    fn taint(&self) -> Taint {
        let positional = self
            .positional
            .iter()
            .fold(Taint::NONE, |t, v| t | v.deep_taint());
        self.keywords
            .iter()
            .filter(|(k, _)| !matches!(*k, Some("env" | "cwd" | "timeout")))
            .fold(positional, |t, (_, v)| t | v.deep_taint())
    }
}
