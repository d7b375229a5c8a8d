//! Generates the message types from `xsd/*.xsd` (see `codegen/`) into `$OUT_DIR/contracts.rs`,
//! included by `src/contracts/mod.rs`. A schema the generator does not understand fails the
//! build with the file, line and construct.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    // `db::MIGRATIONS` embeds migrations/: a migration added there rebuilds the crate.
    println!("cargo:rerun-if-changed=migrations");
    match run(Path::new("xsd")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot generate the message types: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &Path) -> Result<(), String> {
    // The directory itself, so that added or removed files trigger a rerun too.
    println!("cargo:rerun-if-changed={}", dir.display());
    for f in tsgate_codegen::schema_files(dir)? {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let code = tsgate_codegen::generate(dir)?;
    let out_dir = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let out = PathBuf::from(out_dir).join("contracts.rs");
    std::fs::write(&out, code).map_err(|e| format!("{}: {e}", out.display()))
}
