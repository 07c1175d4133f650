//! The file's bytes for the parser: read and hashed a few chunks ahead on a thread of its own
//! ([`super::summarize`]), or read directly ([`super::for_each_resource`]).

use super::{CHUNK, CHUNKS_AHEAD};

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// The file's bytes in chunks, read and hashed on a thread of its own a few chunks ahead of the
/// parser; used chunks go back to that thread to be filled again.
pub(super) struct ReadAhead {
    full: Receiver<std::io::Result<Vec<u8>>>,
    empty: SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
    ended: bool,
    /// The reader thread; once it has read to the end of the file, it returns how many bytes the
    /// file had and their hash.
    reader: Option<JoinHandle<Option<(u64, Sha256)>>>,
}

impl ReadAhead {
    pub(super) fn start(mut file: File) -> ReadAhead {
        let (full_tx, full) = mpsc::sync_channel(CHUNKS_AHEAD);
        let (empty, empty_rx) = mpsc::sync_channel::<Vec<u8>>(CHUNKS_AHEAD + 2);
        let reader = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            let mut bytes = 0u64;
            loop {
                let mut chunk = empty_rx.try_recv().unwrap_or_default();
                chunk.resize(CHUNK, 0);
                let n = match read_some(&mut file, &mut chunk) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        return None;
                    }
                };
                if n == 0 {
                    return Some((bytes, hasher));
                }
                bytes += n as u64;
                chunk.truncate(n);
                hasher.update(&chunk);
                if full_tx.send(Ok(chunk)).is_err() {
                    return None; // the parser stopped early
                }
            }
        });
        ReadAhead {
            full,
            empty,
            chunk: Vec::new(),
            pos: 0,
            ended: false,
            reader: Some(reader),
        }
    }

    /// The size of the file and the hash of its bytes, once the parser has read to its end.
    pub(super) fn finish(&mut self) -> Option<(u64, Sha256)> {
        self.reader.take()?.join().ok().flatten()
    }
}

/// Reads until `buf` is full or the file ends; retries interrupted reads.
fn read_some(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl ReadAhead {
    /// Takes the next chunk from the reader thread, once the current one is used up.
    #[inline(never)]
    fn next_chunk(&mut self) -> std::io::Result<()> {
        match self.full.recv() {
            Ok(Ok(next)) => {
                let used = std::mem::replace(&mut self.chunk, next);
                let _ = self.empty.try_send(used);
                self.pos = 0;
            }
            Ok(Err(e)) => {
                self.ended = true;
                return Err(e);
            }
            Err(_) => self.ended = true, // the file's end: the reader thread is done
        }
        Ok(())
    }
}

impl BufRead for ReadAhead {
    // quick-xml asks for the buffer several times per event: the common case is inlined.
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos == self.chunk.len() && !self.ended {
            self.next_chunk()?;
        }
        Ok(&self.chunk[self.pos..])
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        self.pos += amt;
    }
}

/// Where the parser reads from: a [`ReadAhead`] when the bytes are hashed (the hash then runs
/// beside the parsing), the file through a buffer otherwise.
pub(super) enum Source {
    Ahead(ReadAhead),
    Direct(BufReader<File>),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Ahead(r) => r.read(buf),
            Source::Direct(r) => r.read(buf),
        }
    }
}

impl BufRead for Source {
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            Source::Ahead(r) => r.fill_buf(),
            Source::Direct(r) => r.fill_buf(),
        }
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        match self {
            Source::Ahead(r) => r.consume(amt),
            Source::Direct(r) => r.consume(amt),
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Stop the reader thread: its next send fails once the receiver is gone.
        let (_, closed) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.full, closed));
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}
