//! Generates the message types from `xsd/*.xsd` (see `codegen/`) into `$OUT_DIR/contracts.rs`.

fn main() {
    let dir = std::path::Path::new("xsd");
    println!("cargo:rerun-if-changed=xsd");
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            println!("cargo:rerun-if-changed={}", e.path().display());
        }
    }
    let code = match tsgate_codegen::generate(dir) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: cannot generate the message types: {e}");
            std::process::exit(1);
        }
    };
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default())
        .join("contracts.rs");
    if let Err(e) = std::fs::write(&out, code) {
        eprintln!("error: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
