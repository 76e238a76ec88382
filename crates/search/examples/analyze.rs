//! Prints the index terms of each argument, to see what the analyzer does.
//! Usage: [JANGTEO_KO_DIC=data/ko-dic] analyze "한정판 도서를 예약했습니다" ...

use std::process::ExitCode;

use jangteo_search::{KoreanAnalyzer, chosung, dictionary};

fn main() -> ExitCode {
    let dir = dictionary::dir_from_env();
    let analyzer = match KoreanAnalyzer::new(dir.as_deref()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("analyzer: {}", analyzer.kind().as_str());
    for text in std::env::args().skip(1) {
        println!("{text}");
        println!("  terms:   {}", analyzer.terms(&text).join(" | "));
        println!("  chosung: {}", chosung::chosung_terms(&text).join(" | "));
    }
    ExitCode::SUCCESS
}
