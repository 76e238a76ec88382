//! Builds the lindera Korean dictionary from decoded mecab-ko-dic source.
//! Usage: build_ko_dic <decoded-source-dir> <output-dir>
//! Normally run through `scripts/ko-dic/build.sh`, which prepares the source.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [src, out] = args.as_slice() else {
        eprintln!("usage: build_ko_dic <decoded-source-dir> <output-dir>");
        return ExitCode::from(2);
    };
    if jangteo_search::dictionary::is_built(out) {
        println!("ko-dic: {} is already built", out.display());
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    match jangteo_search::dictionary::build(src, out) {
        Ok(()) => {
            println!(
                "ko-dic: built {} in {:.1} s",
                out.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ko-dic: {e}");
            ExitCode::FAILURE
        }
    }
}
