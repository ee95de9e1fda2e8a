//! # monban-web-split — cuts the dashboard's wasm into its main module and the lazily
//! loaded route modules
//!
//! A build step of `scripts/build-web.sh`, between `cargo build` (the wasm, linked with
//! `--emit-relocs`, see `.cargo/config.toml`) and `wasm-bindgen`:
//!
//! ```text
//! monban-web-split <input.wasm> <main-out.wasm> <pkg-dir>
//! ```
//!
//! - `<main-out.wasm>`: the main module, still to be processed by wasm-bindgen (which
//!   must keep the linker's exports: `--keep-lld-exports`).
//! - `<pkg-dir>/split_*.wasm`, `chunk_*.wasm`: the code of each `#[lazy]` function
//!   (monban-web has one, the pages besides the overview: `web/src/routes.rs`) and, with
//!   several, the code some of them share. Their custom sections (function names, producers) are
//!   dropped: only the main module's names are needed, and wasm-bindgen drops those.
//! - `<pkg-dir>/__wasm_split.______________________.js`: the loader the main module
//!   imports to fetch and instantiate those modules. The name is the one Leptos's
//!   `HydrationScripts` preloads (`<link rel="modulepreload">`).
//! - `<pkg-dir>/__wasm_split_manifest.json`: for each `#[lazy]` function, the modules it
//!   needs; the server reads it to preload the modules of the page it renders.
//!
//! The splitting itself is `wasm_split_cli_support`, the library cargo-leptos's
//! `--split` uses; cargo-leptos itself needs a newer rustc than this project's.
//!
//! # Layout
//!
//! - `main.rs` — everything: arguments, the split, the manifest, the section stripping.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The loader's file name, as Leptos expects it without hashed file names
/// (`leptos::hydration::HydrationScripts`).
const LINK_NAME: &str = "./__wasm_split.______________________.js";
/// The wasm-bindgen loader of the main module (`--out-name monban_web`).
const MAIN_MODULE: &str = "./monban_web.js";
/// The manifest Leptos's `HydrationScripts` reads from the site's pkg directory.
const MANIFEST: &str = "__wasm_split_manifest.json";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, main_out, pkg_dir] = args.as_slice() else {
        eprintln!("usage: monban-web-split <input.wasm> <main-out.wasm> <pkg-dir>");
        return ExitCode::from(2);
    };
    match run(Path::new(input), Path::new(main_out), Path::new(pkg_dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("monban-web-split: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &Path, main_out: &Path, pkg_dir: &Path) -> Result<(), String> {
    let wasm = std::fs::read(input).map_err(|e| format!("reading {}: {e}", input.display()))?;
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&wasm);
        options.output_dir = pkg_dir;
        options.main_out_path = main_out;
        options.link_name = LINK_NAME;
        options.main_module = MAIN_MODULE;
        options
    })
    .map_err(|e| format!("splitting {}: {e:?}", input.display()))?;

    let mut modules: Vec<PathBuf> = split.split_modules;
    modules.sort();
    for module in &modules {
        let bytes =
            std::fs::read(module).map_err(|e| format!("reading {}: {e}", module.display()))?;
        let stripped = without_custom_sections(&bytes)
            .ok_or_else(|| format!("{} is not a well-formed wasm module", module.display()))?;
        std::fs::write(module, stripped)
            .map_err(|e| format!("writing {}: {e}", module.display()))?;
    }

    // Sorted, so that the same input gives the same file.
    let manifest: BTreeMap<String, Vec<String>> = split.prefetch_map.into_iter().collect();
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    let manifest_path = pkg_dir.join(MANIFEST);
    std::fs::write(&manifest_path, json + "\n")
        .map_err(|e| format!("writing {}: {e}", manifest_path.display()))?;

    println!(
        "monban-web-split: main module {}; {} lazily loaded module(s) for {} lazy function(s)",
        main_out.display(),
        modules.len(),
        manifest.len()
    );
    for (function, needs) in &manifest {
        println!("  {function}: {}", needs.join(", "));
    }
    Ok(())
}

/// The module without its custom sections (id 0: names, producers, target features);
/// `None` if the bytes are not a sequence of well-formed sections.
fn without_custom_sections(module: &[u8]) -> Option<Vec<u8>> {
    let header = module.get(..8)?;
    let mut out = header.to_vec();
    let mut at = 8;
    while at < module.len() {
        let id = module[at];
        let (len, body) = read_leb_u32(module, at + 1)?;
        let end = body.checked_add(usize::try_from(len).ok()?)?;
        if end > module.len() {
            return None;
        }
        if id != 0 {
            out.extend_from_slice(&module[at..end]);
        }
        at = end;
    }
    Some(out)
}

/// An unsigned LEB128 `u32` at `at`: its value and the offset after it.
fn read_leb_u32(bytes: &[u8], mut at: usize) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_sections_are_dropped_and_others_kept() {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        // a custom section "name" with two bytes of payload
        module.extend_from_slice(&[0, 7, 4, b'n', b'a', b'm', b'e', 1, 2]);
        // a type section (id 1) with one empty function type
        module.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        // a custom section whose size needs two LEB bytes
        module.push(0);
        module.extend_from_slice(&[0x81, 0x01]);
        module.extend_from_slice(&[0; 129]);
        let stripped = without_custom_sections(&module).expect("well-formed");
        assert_eq!(stripped, b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0".to_vec());
    }

    #[test]
    fn a_truncated_section_is_refused() {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend_from_slice(&[1, 9, 1, 0x60]);
        assert_eq!(without_custom_sections(&module), None);
    }
}
