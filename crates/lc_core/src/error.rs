//! The library's one error type: what was being done (`context`) and what went wrong (`kind`).
//!
//! Every variant keeps the facts an administrator needs (the file and line, the command and its
//! exit status, the tail of its output). At the module edge an error becomes a one-line `msg`
//! plus the detail keys of [`Error::details`].

use serde_json::{Map, Value};
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[error("{}", self.one_line())]
pub struct Error {
    /// What was being done, e.g. `enabling maintenance mode in /opt/IBM/HTTPServer/conf/httpd.conf`.
    pub context: Option<String>,
    pub kind: ErrorKind,
}

/// A command that ran and failed, after cargo's `ProcessError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessError {
    /// The command as shown to a person (never holds a secret).
    pub command: String,
    /// The exit status, `None` when killed by a signal or never started.
    pub status: Option<i32>,
    /// The last lines of what it printed (stdout then stderr), secrets already removed.
    pub output_tail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// An option that is missing, malformed or contradicts another one.
    #[error("{0}")]
    Invalid(String),
    /// A file that could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file whose content is wrong at a given line.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A command that failed.
    #[error("{message}")]
    Process {
        message: String,
        process: ProcessError,
    },
    /// A command that did not finish in time and was killed.
    #[error("{message}")]
    Timeout {
        message: String,
        process: ProcessError,
    },
}

impl Error {
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            context: None,
            kind,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Invalid(msg.into()))
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::new(ErrorKind::Io {
            path: path.into(),
            source,
        })
    }

    pub fn parse(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Parse {
            path: path.into(),
            line,
            message: message.into(),
        })
    }

    pub fn process(message: impl Into<String>, process: ProcessError) -> Self {
        Error::new(ErrorKind::Process {
            message: message.into(),
            process,
        })
    }

    pub fn timeout(message: impl Into<String>, process: ProcessError) -> Self {
        Error::new(ErrorKind::Timeout {
            message: message.into(),
            process,
        })
    }

    /// Says what was being done when this went wrong; the first context given wins the front.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        let context = context.into();
        self.context = Some(match self.context.take() {
            Some(inner) => format!("{context}: {inner}"),
            None => context,
        });
        self
    }

    /// The message on one line: `<context>: <kind>`, with line breaks folded.
    pub fn one_line(&self) -> String {
        let text = match &self.context {
            Some(c) => format!("{c}: {}", self.kind),
            None => self.kind.to_string(),
        };
        fold_lines(&text)
    }

    /// The detail keys added beside `msg` in a failed result.
    pub fn details(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match &self.kind {
            ErrorKind::Io { path, .. } | ErrorKind::Parse { path, .. } => {
                m.insert("path".into(), Value::from(path.display().to_string()));
                if let ErrorKind::Parse { line, .. } = &self.kind {
                    m.insert("line".into(), Value::from(*line));
                }
            }
            ErrorKind::Process { process, .. } | ErrorKind::Timeout { process, .. } => {
                m.insert("cmd".into(), Value::from(process.command.clone()));
                m.insert(
                    "rc".into(),
                    process.status.map(Value::from).unwrap_or(Value::Null),
                );
                m.insert(
                    "output_tail".into(),
                    Value::from(process.output_tail.clone()),
                );
            }
            ErrorKind::Invalid(_) => {}
        }
        m
    }
}

/// What ends a line for a terminal or for Python's `str.splitlines` (a lone `\r` too).
pub const LINE_BREAKS: &[char] = &[
    '\n', '\r', '\u{0b}', '\u{0c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
];

/// Joins the lines of a message with `; ` and trims it, so that every `msg` is one line, whatever
/// line breaks a quoted value held.
pub fn fold_lines(text: &str) -> String {
    text.split(LINE_BREAKS)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

pub trait ResultExt<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| e.context(context()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_one_line_with_context() {
        let e = Error::parse("/x/httpd.conf", 12, "unclosed <Location>\nsecond line")
            .context("enabling maintenance mode");
        assert_eq!(
            e.one_line(),
            "enabling maintenance mode: /x/httpd.conf:12: unclosed <Location>; second line"
        );
        assert_eq!(e.details()["line"], 12);
    }

    #[test]
    fn every_line_break_is_folded() {
        // Found by fuzzing the args file: an unknown option named "a\rb" was quoted as is.
        assert_eq!(
            fold_lines("Unsupported parameters: _a\rb, c\u{2028}d\u{85}e\u{0b}f"),
            "Unsupported parameters: _a; b, c; d; e; f"
        );
        assert_eq!(fold_lines("a\r\n\r\nb\n"), "a; b");
    }
}
