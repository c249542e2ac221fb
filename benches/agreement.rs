//! Agreement generation benchmarks (criterion): the standard three-party agreement (the shipped
//! `three-party` example, Swedish) from data to DOCX (target < 5 ms) and to PDF (target < 50 ms), and the
//! same agreement through docxtpl (Python) in the same run for comparison (target: samverkan ≥ 10× faster).
//!
//! Run on one core: `taskset -c 0 cargo bench --bench agreement`.
//! The docxtpl step needs `python3` with `pip install docxtpl`; without it that step is skipped.
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use samverkan::domain::lang::Lang;
use samverkan::render::{self, Format};
use samverkan::templates::TemplateSet;

fn benches(c: &mut Criterion, set: &TemplateSet) {
    let data = render::example("three-party", Lang::Sv).expect("example");
    let doc = render::build_document(set, &data).expect("document");
    c.bench_function("three-party data → document model", |b| {
        b.iter(|| render::build_document(set, black_box(&data)).expect("document"))
    });
    c.bench_function("three-party data → DOCX", |b| {
        b.iter(|| {
            let doc = render::build_document(set, black_box(&data)).expect("document");
            render::render(&doc, Format::Docx).expect("docx")
        })
    });
    c.bench_function("three-party data → PDF", |b| {
        b.iter(|| {
            let doc = render::build_document(set, black_box(&data)).expect("document");
            render::render(&doc, Format::Pdf).expect("pdf")
        })
    });
    c.bench_function("three-party document → HTML", |b| {
        b.iter(|| render::render(black_box(&doc), Format::Html).expect("html"))
    });
}

/// Mean time of `f` over `n` runs, in milliseconds.
fn mean_ms(n: u32, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
}

fn compare_with_docxtpl(set: &TemplateSet) {
    let data = render::example("three-party", Lang::Sv).expect("example");
    let ours = mean_ms(200, || {
        let doc = render::build_document(set, &data).expect("document");
        black_box(render::render(&doc, Format::Docx).expect("docx"));
    });
    let dir = std::env::temp_dir().join(format!("samverkan-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let view_path = dir.join("view.json");
    let view = serde_json::to_vec(&render::view::view(&data)).expect("view");
    if std::fs::write(&view_path, view).is_err() {
        eprintln!(
            "docxtpl comparison skipped: cannot write {}",
            view_path.display()
        );
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/docxtpl_compare.py");
    let templates = concat!(env!("CARGO_MANIFEST_DIR"), "/contract-templates");
    let out = Command::new("python3")
        .args([script, "--view"])
        .arg(&view_path)
        .args([
            "--templates",
            templates,
            "--lang",
            "sv",
            "--iterations",
            "30",
        ])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(o) if o.status.success() => {
            let line = String::from_utf8_lossy(&o.stdout);
            let theirs = serde_json::from_str::<serde_json::Value>(line.trim())
                .ok()
                .and_then(|v| v["mean_ms"].as_f64());
            match theirs {
                Some(t) => println!(
                    "\nthree-party → DOCX: samverkan {ours:.3} ms, docxtpl {t:.3} ms: samverkan is {:.0}× faster",
                    t / ours
                ),
                None => eprintln!("docxtpl comparison: unexpected output {line}"),
            }
        }
        Ok(o) => eprintln!(
            "docxtpl comparison skipped: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => eprintln!("docxtpl comparison skipped: python3: {e}"),
    }
}

fn main() {
    let set = TemplateSet::builtin().expect("built-in templates");
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    benches(&mut c, &set);
    c.final_summary();
    compare_with_docxtpl(&set);
}
