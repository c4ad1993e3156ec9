use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let d = dualsync_codegen::csdl::parse_str(&text).unwrap();
        let c = t.elapsed();
        let t = Instant::now();
        let d2 = dualsync_codegen::csdl::parse_str_sequential(&text).unwrap();
        let s = t.elapsed();
        assert!(d == d2);
        drop(d2);
        let t = Instant::now();
        let m = dualsync_codegen::model::Model::resolve(vec![d]).unwrap();
        let r = t.elapsed();
        let t = Instant::now();
        drop(m);
        println!("parse {c:?} seq {s:?} resolve {r:?} drop {:?}", t.elapsed());
    }
}
