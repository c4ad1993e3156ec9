use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let mode = std::env::args().nth(2).unwrap_or_default();
    let text = std::fs::read_to_string(path).unwrap();
    let mut keep = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let d = if mode.starts_with("seq") {
            dualsync_codegen::csdl::parse_str_sequential(&text).unwrap()
        } else {
            dualsync_codegen::csdl::parse_str(&text).unwrap()
        };
        let c = t.elapsed();
        if mode.ends_with("parse") {
            keep.push(d);
            println!("parse {c:?}");
            continue;
        }
        let t = Instant::now();
        let m = dualsync_codegen::model::Model::resolve(vec![d]).unwrap();
        let r = t.elapsed();
        let t = Instant::now();
        drop(m);
        println!("parse {c:?} resolve {r:?} drop {:?}", t.elapsed());
    }
    std::mem::forget(keep);
}
