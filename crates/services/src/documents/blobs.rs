//! Content-addressed, immutable blob storage.
//!
//! [`Blobs`] is the seam: [`LocalBlobs`] keeps objects on the local disk
//! (the default); an S3-compatible backend (e.g. over the `object_store`
//! crate: stage under a temporary key, then `copy_if_not_exists`) can
//! implement the same trait later.
//!
//! Local layout under the root directory:
//! - `sha256/ab/cd/<64 hex>`: the objects, read-only (mode 0444), never
//!   overwritten;
//! - `tmp/upload-<random>.part`: uploads in progress, on the same file
//!   system so that publishing is a hard link.
//!
//! Why not `object_store`'s `LocalFileSystem`: it fsyncs neither the file
//! nor the directory, and its key must be known before the upload starts,
//! while ours is the hash of what is being uploaded.

use std::fmt::Display;
use std::fs::{self, File, OpenOptions};
use std::future::{Future, poll_fn};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use palazzo_domain::protocollo::Impronta;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use crate::{ServiceError, ServiceResult};

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// SHA-256 of the bytes: the address.
    pub sha256: Impronta,
    /// Size in bytes.
    pub size: u64,
    /// False when an identical object already existed (it was kept as is).
    pub created: bool,
}

/// A content-addressed store of immutable objects.
pub trait Blobs: Send + Sync {
    /// Streams `body` into the store while hashing it, refusing it past
    /// `max_size` bytes (`document_too_large`). Before the object is
    /// published, `inspect` sees the whole content and may refuse it; its
    /// value is returned with the [`BlobInfo`]. An object with the same hash
    /// is never overwritten. Nothing is left behind on refusal.
    fn put_stream<S, E, T, F>(
        &self,
        body: S,
        max_size: u64,
        inspect: F,
    ) -> impl Future<Output = ServiceResult<(BlobInfo, T)>> + Send
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Display + Send,
        F: FnOnce(&[u8]) -> ServiceResult<T> + Send + 'static,
        T: Send + 'static;

    /// The bytes of an object, or `None` when there is none.
    fn get(&self, sha256: &Impronta)
    -> impl Future<Output = ServiceResult<Option<Vec<u8>>>> + Send;

    /// Whether an object exists.
    fn exists(&self, sha256: &Impronta) -> impl Future<Output = ServiceResult<bool>> + Send;
}

fn io_err(what: &str, e: impl Display) -> ServiceError {
    ServiceError::Internal(format!("document store: {what}: {e}"))
}

/// The error for a body over the limit.
pub(crate) fn too_large(max_size: u64) -> ServiceError {
    let mib = max_size as f64 / (1024.0 * 1024.0);
    ServiceError::Invalid {
        code: "document_too_large",
        message: format!("Il file supera la dimensione massima consentita ({mib:.0} MiB)."),
    }
}

/// Objects on the local disk.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

enum Msg {
    Chunk(Bytes),
    End,
}

impl LocalBlobs {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalBlobs { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The staging directory of uploads in progress.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where the object with this hash lives: `sha256/ab/cd/<hex>`.
    pub fn path_of(&self, sha256: &Impronta) -> PathBuf {
        let hex = sha256.hex();
        self.root
            .join("sha256")
            .join(&hex[0..2])
            .join(&hex[2..4])
            .join(hex)
    }

    /// Removes uploads left in the staging directory by a crash. Call it at
    /// start-up, before serving uploads.
    pub fn clean_staging(&self) -> ServiceResult<usize> {
        let dir = self.staging_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io_err("staging", e)),
        };
        let mut n = 0;
        for entry in entries {
            let entry = entry.map_err(|e| io_err("staging", e))?;
            if entry.file_name().to_string_lossy().ends_with(".part") {
                fs::remove_file(entry.path()).map_err(|e| io_err("staging", e))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The blocking half of an upload: writes, hashes, inspects, publishes.
    fn receive<T>(
        &self,
        mut rx: mpsc::Receiver<Msg>,
        inspect: impl FnOnce(&[u8]) -> ServiceResult<T>,
    ) -> ServiceResult<Option<(BlobInfo, T)>> {
        let staging = self.staging_dir();
        fs::create_dir_all(&staging).map_err(|e| io_err("staging", e))?;
        let (tmp, mut file) = create_temp(&staging)?;
        // From here on, every exit removes the temporary file.
        let result = (|| {
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut complete = false;
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    Msg::Chunk(b) => {
                        hasher.update(&b);
                        size += b.len() as u64;
                        file.write_all(&b).map_err(|e| io_err("write", e))?;
                    }
                    Msg::End => {
                        complete = true;
                        break;
                    }
                }
            }
            if !complete {
                // The sender gave up (size limit, client error): discard.
                return Ok(None);
            }
            file.sync_all().map_err(|e| io_err("fsync", e))?;
            drop(file);
            let sha256 = Impronta::from_digest(hasher.finalize().into());
            let content = fs::read(&tmp).map_err(|e| io_err("read back", e))?;
            if Impronta::of(&content) != sha256 {
                return Err(io_err("read back", "the staged file changed"));
            }
            let value = inspect(&content)?;
            drop(content);
            let created = self.publish(&tmp, &sha256)?;
            Ok(Some((
                BlobInfo {
                    sha256,
                    size,
                    created,
                },
                value,
            )))
        })();
        match fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %tmp.display(), error = %e, "staged upload not removed")
            }
        }
        let _ = sync_dir(&staging);
        result
    }

    /// Links the staged file to its address unless an object is there.
    fn publish(&self, tmp: &Path, sha256: &Impronta) -> ServiceResult<bool> {
        let dest = self.path_of(sha256);
        let Some(dir) = dest.parent() else {
            return Err(io_err("publish", "no parent directory"));
        };
        if !dir.is_dir() {
            fs::create_dir_all(dir).map_err(|e| io_err("mkdir", e))?;
            // Make the new directory entries durable up to the root.
            let mut d = Some(dir);
            while let Some(p) = d {
                sync_dir(p).map_err(|e| io_err("fsync dir", e))?;
                if p == self.root {
                    break;
                }
                d = p.parent();
            }
        }
        set_read_only(tmp)?;
        // `hard_link` never replaces an existing file: originals are immutable.
        let created = match fs::hard_link(tmp, &dest) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(io_err("publish", e)),
        };
        sync_dir(dir).map_err(|e| io_err("fsync dir", e))?;
        Ok(created)
    }
}

fn create_temp(dir: &Path) -> ServiceResult<(PathBuf, File)> {
    for _ in 0..8 {
        let path = dir.join(format!("upload-{:016x}.part", rand::random::<u64>()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("create temp", e)),
        }
    }
    Err(io_err("create temp", "no free name"))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(unix)]
fn set_read_only(path: &Path) -> ServiceResult<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(0o444)).map_err(|e| io_err("chmod", e))
}

#[cfg(not(unix))]
fn set_read_only(path: &Path) -> ServiceResult<()> {
    let mut p = fs::metadata(path)
        .map_err(|e| io_err("chmod", e))?
        .permissions();
    p.set_readonly(true);
    fs::set_permissions(path, p).map_err(|e| io_err("chmod", e))
}

impl Blobs for LocalBlobs {
    async fn put_stream<S, E, T, F>(
        &self,
        body: S,
        max_size: u64,
        inspect: F,
    ) -> ServiceResult<(BlobInfo, T)>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Display + Send,
        F: FnOnce(&[u8]) -> ServiceResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Msg>(8);
        let me = self.clone();
        let writer = tokio::task::spawn_blocking(move || me.receive(rx, inspect));
        let mut body = pin!(body);
        let mut size = 0u64;
        // Why the upload stopped early, if it did.
        let mut failure: Option<ServiceError> = None;
        while let Some(item) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            match item {
                Ok(chunk) => {
                    size += chunk.len() as u64;
                    if size > max_size {
                        failure = Some(too_large(max_size));
                        break;
                    }
                    if tx.send(Msg::Chunk(chunk)).await.is_err() {
                        // The writer stopped: its error is reported below.
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(ServiceError::Invalid {
                        code: "document_upload_interrupted",
                        message: "Il caricamento del file si è interrotto. Riprova.".to_owned(),
                    });
                    tracing::info!(error = %e, "upload body failed");
                    break;
                }
            }
        }
        if failure.is_none() {
            let _ = tx.send(Msg::End).await;
        }
        drop(tx);
        // Wait for the writer even on failure: it removes the staged file.
        let written = writer.await.map_err(|e| io_err("writer task", e))?;
        if let Some(f) = failure {
            return Err(f);
        }
        written?.ok_or_else(|| io_err("writer", "upload ended without data"))
    }

    async fn get(&self, sha256: &Impronta) -> ServiceResult<Option<Vec<u8>>> {
        let path = self.path_of(sha256);
        tokio::task::spawn_blocking(move || match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", e)),
        })
        .await
        .map_err(|e| io_err("reader task", e))?
    }

    async fn exists(&self, sha256: &Impronta) -> ServiceResult<bool> {
        let path = self.path_of(sha256);
        tokio::task::spawn_blocking(move || path.is_file())
            .await
            .map_err(|e| io_err("reader task", e))
    }
}

/// Adapts an [`AsyncRead`] into a stream of chunks for
/// [`Blobs::put_stream`].
pub struct ReaderStream<R> {
    reader: R,
    buf: Vec<u8>,
}

impl<R> ReaderStream<R> {
    /// Reads `reader` in chunks of 64 KiB.
    pub fn new(reader: R) -> Self {
        ReaderStream {
            reader,
            buf: vec![0; 64 * 1024],
        }
    }
}

impl<R: AsyncRead + Unpin> Stream for ReaderStream<R> {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut rb = ReadBuf::new(&mut this.buf);
        match Pin::new(&mut this.reader).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if rb.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => Poll::Ready(Some(Ok(Bytes::copy_from_slice(rb.filled())))),
        }
    }
}
