//! `cargo bench --bench diagnostics`: matching 10 MB of compiler output
//! (gcc messages, one line in ten, between quoted source lines), as a
//! supervisor does when a task ends. The figure the issue sets: ≤ 50 ms.
//! `bench/project.py` measures the same through `errand errors`, which
//! adds process start, the store, reading the output and printing.

use std::time::Instant;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("main.c"), "").expect("main.c");
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 10_000_000 {
        if i % 10 == 0 {
            let (line, col) = (i % 500 + 1, i % 80 + 1);
            text.push_str(&format!("main.c:{line}:{col}: error: 'x{i}' undeclared (first use in this function)\n"));
        } else {
            text.push_str(&format!("    {i} |     return x{i} + y{i};  // a source line quoted under a message\n"));
        }
        i += 1;
    }
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..21 {
        let start = Instant::now();
        found = errand::diagnostics::parse(&text, dir.path(), None).len();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "matching {:.1} MB with every built-in matcher: median {:.1} ms, fastest {:.1} ms, slowest {:.1} ms ({found} diagnostics)",
        text.len() as f64 / 1e6,
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
    );
}
