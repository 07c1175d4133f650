//! apachectl: checking a candidate conf, reading what httpd makes of it, restarting.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The result of one apachectl run.
#[derive(Debug, Clone)]
pub struct CtlOutput {
    pub status: Option<i32>,
    /// stdout then stderr.
    pub output: String,
}

impl CtlOutput {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// The output's non-empty lines, trimmed.
    fn lines(&self) -> Vec<&str> {
        self.output
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The last `n` non-empty lines, joined with `; `.
    pub fn tail(&self, n: usize) -> String {
        let lines = self.lines();
        lines[lines.len().saturating_sub(n)..].join("; ")
    }

    /// The line that says what is wrong with a conf: httpd's `AH00526: Syntax error on line N of
    /// FILE:` and the line after it, or else the last lines.
    pub fn error_line(&self) -> String {
        let lines = self.lines();
        if let Some(i) = lines.iter().position(|l| l.contains("Syntax error")) {
            return lines[i..(i + 2).min(lines.len())].join(" ");
        }
        self.tail(2)
    }
}

/// apachectl: validate a conf, list modules, restart.
#[derive(Debug, Clone)]
pub struct Apachectl {
    pub program: PathBuf,
}

impl Apachectl {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Apachectl {
            program: program.into(),
        }
    }

    /// Runs apachectl with `args` and returns its status and output; only a failure to start
    /// it is an error.
    pub fn run(&self, args: &[&str]) -> Result<CtlOutput> {
        let dir = self
            .program
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let out = Command::new(&self.program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::io(&self.program, e).context("running apachectl"))?;
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = String::from_utf8_lossy(&out.stderr);
        if !err.is_empty() {
            if !output.is_empty() && !output.ends_with('\n') {
                output.push('\n');
            }
            output.push_str(&err);
        }
        Ok(CtlOutput {
            status: out.status.code(),
            output,
        })
    }

    /// `apachectl -t -f <conf>`.
    pub fn check(&self, conf: &Path) -> Result<CtlOutput> {
        self.run(&["-t", "-f", &conf.to_string_lossy()])
    }

    /// `apachectl -M -f <conf>`: whether the conf loads `module` (e.g. `access_compat_module`).
    /// `None` when httpd could not say (the conf does not parse).
    pub fn loads_module(&self, conf: &Path, module: &str) -> Result<Option<bool>> {
        let out = self.run(&["-M", "-f", &conf.to_string_lossy()])?;
        if !out.success() {
            return Ok(None);
        }
        Ok(Some(
            out.output
                .lines()
                .any(|l| l.split_whitespace().next() == Some(module)),
        ))
    }

    /// `apachectl -t -D DUMP_RUN_CFG -f <conf>`: the `Main DocumentRoot` httpd would use (for a
    /// conf that sets it in an Include). `None` when httpd does not say.
    pub fn document_root(&self, conf: &Path) -> Result<Option<PathBuf>> {
        let out = self.run(&["-t", "-D", "DUMP_RUN_CFG", "-f", &conf.to_string_lossy()])?;
        if !out.success() {
            return Ok(None);
        }
        Ok(out.output.lines().find_map(|l| {
            l.trim()
                .strip_prefix("Main DocumentRoot:")
                .map(|v| PathBuf::from(v.trim().trim_matches('"')))
        }))
    }

    /// `apachectl -k <verb> -f <conf>`.
    pub fn signal(&self, verb: &str, conf: &Path) -> Result<CtlOutput> {
        self.run(&["-k", verb, "-f", &conf.to_string_lossy()])
    }
}
