//! Repeats parse (+ resolve) of one file and prints the times, for profiling with `perf record`:
//!
//! ```sh
//! cargo build --release --example profile_parse
//! perf record -g target/release/examples/profile_parse FILE [seq|parse|seqparse]
//! ```
//!
//! `seq`: one thread; `parse`: stop after parsing (documents are kept, so freeing them is not profiled).

use std::time::Instant;

use dualsync_codegen::csdl;
use dualsync_codegen::model::Model;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: profile_parse FILE [seq|parse|seqparse]")?;
    let mode = args.next().unwrap_or_default();
    let text = std::fs::read_to_string(path)?;
    let mut kept = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let document = if mode.starts_with("seq") {
            csdl::parse_str_sequential(&text)?
        } else {
            csdl::parse_str(&text)?
        };
        let parsed = start.elapsed();
        if mode.ends_with("parse") {
            kept.push(document);
            println!("parse {parsed:?}");
            continue;
        }
        let start = Instant::now();
        let model = Model::resolve(vec![document])?;
        let resolved = start.elapsed();
        let start = Instant::now();
        drop(model);
        println!("parse {parsed:?} resolve {resolved:?} drop {:?}", start.elapsed());
    }
    Ok(())
}
