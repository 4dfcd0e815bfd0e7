//! A stand-in upstream PyPI simple index on 127.0.0.1, for tests of the pull-through proxy.
//!
//! [`FakePypi`] serves the files a test gives it (real wheels from disk, or ones built with
//! [`WheelBuilder`](crate::WheelBuilder)) the way an upstream index does:
//!
//! - `GET /simple/` and `GET /simple/{project}/`: PEP 691 JSON when the `Accept` header asks
//!   for it, PEP 503 HTML otherwise, with PEP 592 yanks, PEP 658/714 core-metadata hashes and
//!   PEP 700 `versions`, `size` and `upload-time`; an `ETag` and `If-None-Match` (304); a 301
//!   from a non-normalized name to the normalized one, a 404 for an unknown project;
//! - `GET /files/{filename}`: the file's bytes; `GET /files/{filename}.metadata`: a wheel's
//!   `*.dist-info/METADATA`, byte for byte, whose hash the pages advertise.
//!
//! A test controls upload times and yanks, reads per-page and per-file request counters,
//! injects failing or hostile answers with [`Fault`], and takes the whole upstream down and
//! back up on the same port with [`FakePypi::take_down`] and [`FakePypi::bring_up`].
//!
//! It is a test helper: a file name it cannot read, or a call about a file it does not hold,
//! panics with a message rather than returning an error.

mod dist;
mod negotiate;
mod pages;
mod routes;

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

pub use dist::normalize;
use dist::Dist;

/// The file name [`Fault::TraversalFilename`] lists, a path that climbs out of any directory
/// a proxy might store files in.
pub const TRAVERSAL_FILENAME: &str = "../../etc/passwd.whl";

/// How many parts [`Fault::SlowFile`] sends a file in, with its pause before each part.
pub const SLOW_FILE_PARTS: usize = 4;

/// The upload time [`FakePypi::add_dir`] gives every file: 2020-01-01T00:00:00Z.
pub fn default_upload_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_577_836_800)
}

/// A failing or hostile answer the stand-in gives until [`FakePypi::clear_faults`].
///
/// Faults add up; when two of the same kind apply, the one set last wins. Requests are
/// counted before any fault applies, so a refused or delayed request still shows in the
/// counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Every request answers this status (e.g. 500, 503, 429). A 429 or 503 carries
    /// `Retry-After: 1`.
    Status(u16),
    /// Every answer is delayed by this long, for timeout tests.
    Delay(Duration),
    /// The project's page is cut off halfway, so its JSON does not parse (the HTML form is
    /// cut off too).
    MalformedPage {
        /// The project, in any spelling.
        project: String,
    },
    /// The project's page is padded to `bytes` bytes (or stays as it is if already larger)
    /// and stays valid: an extra `x-padding` JSON field, or an HTML comment.
    OversizedPage {
        /// The project, in any spelling.
        project: String,
        /// The size of the padded page.
        bytes: usize,
    },
    /// The project's file URLs point at another origin, [`FakePypi::foreign_origin`], where
    /// nothing listens.
    ForeignFileUrls {
        /// The project, in any spelling.
        project: String,
    },
    /// The project's page lists one more file, named [`TRAVERSAL_FILENAME`], whose URL
    /// (with the `/` escaped) serves the bytes of the project's first file, with a matching
    /// hash.
    TraversalFilename {
        /// The project, in any spelling.
        project: String,
    },
    /// The project's page answers a 302 to the same path at [`FakePypi::foreign_origin`].
    RedirectElsewhere {
        /// The project, in any spelling.
        project: String,
    },
    /// The file is served with one byte altered, so its bytes no longer match the sha256
    /// (and the size still matches) the page declares.
    WrongHash {
        /// The file's name, e.g. `demo-1.0-py3-none-any.whl`.
        filename: String,
    },
    /// The wheel's `.metadata` file is served with one byte altered, so it no longer matches
    /// the `core-metadata` hash the page declares.
    WrongMetadataHash {
        /// The wheel's name (without `.metadata`).
        filename: String,
    },
    /// The file is sent in [`SLOW_FILE_PARTS`] parts with `pause` before each, to hold a
    /// download open (for single-flight tests).
    SlowFile {
        /// The file's name.
        filename: String,
        /// The pause before each part.
        pause: Duration,
    },
}

/// A stand-in upstream PyPI simple index on 127.0.0.1. It serves until dropped.
pub struct FakePypi {
    shared: Arc<Shared>,
    server: Mutex<Option<Server>>,
}

/// The accept loop that is running, and how to stop it.
struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl FakePypi {
    /// Binds 127.0.0.1 on a free port and starts serving, with no files yet.
    pub async fn start() -> FakePypi {
        let listener = listen(0);
        let port = listener
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        let fake = FakePypi {
            shared: Arc::new(Shared::new(port)),
            server: Mutex::new(None),
        };
        fake.serve(listener);
        fake
    }

    /// The origin, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.shared.origin()
    }

    /// The simple index, e.g. `http://127.0.0.1:41234/simple/`.
    pub fn simple_url(&self) -> String {
        format!("{}/simple/", self.shared.origin())
    }

    /// The other origin that [`Fault::ForeignFileUrls`] and [`Fault::RedirectElsewhere`]
    /// point at: `http://127.0.0.2:{port}`, on loopback but a different host, where nothing
    /// listens, so a client that follows it gets a refused connection at once.
    pub fn foreign_origin(&self) -> String {
        self.shared.foreign_origin()
    }

    /// Adds one distribution file (wheel or sdist, `.tar.gz` or `.zip`), replacing a file
    /// of the same name. The project is the file name's first `-` field for a wheel, or what
    /// comes before the last `-` for an sdist, PEP 503-normalized. `Requires-Python` and a
    /// wheel's METADATA (for the `.metadata` file) are read from the bytes when they can be.
    /// `upload_time` must fall in years 1970 to 9999, which PEP 700's format can express.
    pub fn add_file(&self, filename: &str, bytes: Vec<u8>, upload_time: SystemTime) {
        let dist = Dist::new(filename, bytes, upload_time);
        self.shared.lock().dists.insert(filename.to_owned(), dist);
    }

    /// Adds every `*.whl` and `*.tar.gz` file in `dir` with [`default_upload_time`], and
    /// says how many.
    pub fn add_dir(&self, dir: &Path) -> usize {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        let mut paths: Vec<_> = entries
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                (name.ends_with(".whl") || name.ends_with(".tar.gz")) && path.is_file()
            })
            .collect();
        paths.sort();
        for path in &paths {
            let bytes = std::fs::read(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let filename = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("filtered to UTF-8 names");
            self.add_file(filename, bytes, default_upload_time());
        }
        paths.len()
    }

    /// Changes a file's `upload-time`.
    pub fn set_upload_time(&self, filename: &str, upload_time: SystemTime) {
        self.shared
            .with_dist(filename, |dist| dist.upload_time = upload_time);
    }

    /// Yanks a file (PEP 592), with a reason or without one (`"yanked": true`).
    pub fn yank(&self, filename: &str, reason: Option<&str>) {
        let reason = reason.unwrap_or("").to_owned();
        self.shared
            .with_dist(filename, |dist| dist.yank_reason = Some(reason));
    }

    /// Undoes a yank.
    pub fn unyank(&self, filename: &str) {
        self.shared
            .with_dist(filename, |dist| dist.yank_reason = None);
    }

    /// Requests for one project's page (`/simple/{project}/`, and the redirects to it from
    /// other spellings), 304s included. `project` may be in any spelling.
    pub fn page_requests(&self, project: &str) -> u64 {
        let counts = &self.shared.lock().counts;
        counts.pages.get(&normalize(project)).copied().unwrap_or(0)
    }

    /// Requests for one file's bytes (`/files/{filename}`).
    pub fn file_requests(&self, filename: &str) -> u64 {
        let counts = &self.shared.lock().counts;
        counts.files.get(filename).copied().unwrap_or(0)
    }

    /// Requests for one wheel's metadata (`/files/{filename}.metadata`); `filename` is the
    /// wheel's name.
    pub fn metadata_requests(&self, filename: &str) -> u64 {
        let counts = &self.shared.lock().counts;
        counts.metadata.get(filename).copied().unwrap_or(0)
    }

    /// Every request received, whatever its path or answer.
    pub fn total_requests(&self) -> u64 {
        self.shared.lock().counts.total
    }

    /// Adds a fault; see [`Fault`].
    pub fn set_fault(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Takes the upstream down: the port stops listening, so new connections are refused,
    /// and the connections already open are closed. Files, counters and faults are kept.
    pub async fn take_down(&self) {
        let server = self
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(server) = server {
            // The loop may have ended already; then there is nothing to tell.
            let _ = server.stop.send(());
            let _ = server.task.await;
        }
    }

    /// Brings the upstream back up on the same port. Does nothing if it is up.
    pub async fn bring_up(&self) {
        if self.is_up() {
            return;
        }
        self.serve(listen(self.shared.port));
    }

    /// Whether the upstream is listening.
    pub fn is_up(&self) -> bool {
        self.server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    fn serve(&self, listener: TcpListener) {
        let (stop, stopped) = oneshot::channel();
        let router = routes::router(self.shared.clone());
        let task = tokio::spawn(accept_loop(listener, router, stopped));
        *self.server.lock().unwrap_or_else(PoisonError::into_inner) = Some(Server { stop, task });
    }
}

impl Drop for FakePypi {
    fn drop(&mut self) {
        let server = self
            .server
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(server) = server {
            // Aborting drops the listener and the set of connections, which aborts them too.
            server.task.abort();
        }
    }
}

/// Binds 127.0.0.1:`port` (0 for any free port). SO_REUSEADDR lets [`FakePypi::bring_up`]
/// take the port back while old connections linger in TIME_WAIT.
fn listen(port: u16) -> TcpListener {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let socket = TcpSocket::new_v4().expect("a TCP socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket
        .bind(address)
        .unwrap_or_else(|e| panic!("cannot bind {address}: {e}"));
    socket
        .listen(128)
        .unwrap_or_else(|e| panic!("cannot listen on {address}: {e}"))
}

/// Serves each connection on its own task until told to stop, then closes the listener and
/// every connection, so the outage is complete when [`FakePypi::take_down`] returns.
async fn accept_loop(listener: TcpListener, router: axum::Router, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // A client that gave up, or no file descriptors left: try again shortly.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let service = TowerToHyperService::new(router.clone());
                connections.spawn(async move {
                    // A connection the client breaks off is no concern of the test.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    connections.shutdown().await;
}

/// What the server's handlers and the [`FakePypi`] handle share.
struct Shared {
    port: u16,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Every file, by file name.
    dists: BTreeMap<String, Dist>,
    faults: Vec<Fault>,
    counts: Counts,
}

#[derive(Default)]
struct Counts {
    total: u64,
    pages: HashMap<String, u64>,
    files: HashMap<String, u64>,
    metadata: HashMap<String, u64>,
}

impl Shared {
    fn new(port: u16) -> Shared {
        Shared {
            port,
            state: Mutex::new(State::default()),
        }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn foreign_origin(&self) -> String {
        format!("http://127.0.0.2:{}", self.port)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock left nothing half-written that matters.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_dist(&self, filename: &str, change: impl FnOnce(&mut Dist)) {
        let mut state = self.lock();
        let dist = state
            .dists
            .get_mut(filename)
            .unwrap_or_else(|| panic!("the fake upstream holds no file `{filename}`"));
        change(dist);
    }
}
