//! `lc-bench-html5ever FILE`: reads a differences report through html5ever's tokenizer (see
//! `lc_bench::html5ever_rows`) and prints the same JSON line as `lc-bench report-differences`.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match &args[..] {
        [file] => lc_bench::print(lc_bench::html5ever_rows::read(Path::new(file))),
        _ => lc_bench::print(Err("usage: lc-bench-html5ever FILE".to_string())),
    }
}
