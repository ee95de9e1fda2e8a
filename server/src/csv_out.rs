//! Every CSV file the hub writes (the audit trail, the compliance and evidence exports,
//! the inventory tables) goes through [`CsvFile`]: UTF-8 with a byte-order mark (Excel
//! reads Japanese correctly), CRLF line ends, RFC 4180 quoting by the `csv` crate, and
//! every cell passed through [`neutralize`].
//!
//! **Formula injection.** Excel and LibreOffice treat a cell that starts with `=`, `+`,
//! `-` or `@` (and, after trimming, a tab or a carriage return) as a formula: a sign-in
//! name `=HYPERLINK("https://evil.example","開く")` would become a live link in the
//! officer's spreadsheet. [`neutralize`] puts an apostrophe before such a cell (OWASP's
//! advice), which spreadsheets show as text and hide. The inventory import takes the
//! apostrophe off again ([`restore`]), so an exported table imports unchanged.

use std::borrow::Cow;

/// The byte-order mark that tells Excel the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as written: prefixed with `'` when it would start a formula.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_START) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as it was before [`neutralize`] (for files the hub reads back).
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

/// A CSV file being written in memory.
pub struct CsvFile {
    writer: csv::Writer<Vec<u8>>,
}

impl Default for CsvFile {
    fn default() -> Self {
        CsvFile::new()
    }
}

impl CsvFile {
    /// An empty file: the byte-order mark only.
    pub fn new() -> CsvFile {
        CsvFile {
            writer: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(BOM.to_vec()),
        }
    }

    /// Appends one record; every cell is neutralised.
    pub fn row<I, S>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| neutralize(c.as_ref()).into_owned())
            .collect();
        self.writer.write_record(&cells)
    }

    /// The bytes written since the last call (the byte-order mark first), for a file
    /// sent as a stream.
    pub fn take(&mut self) -> Result<Vec<u8>, csv::Error> {
        let rest = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        std::mem::replace(&mut self.writer, rest)
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }

    /// Appends a comment line, `# text` (line breaks in `text` become spaces). Exports end
    /// with one naming the evidence chain's head they were made from ([`head_comment`]);
    /// readers skip it as a comment (`csv::ReaderBuilder::comment(Some(b'#'))`, pandas'
    /// `comment="#"`).
    pub fn comment(&mut self, text: &str) -> Result<(), csv::Error> {
        let builder = || {
            csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new())
        };
        let mut bytes = std::mem::replace(&mut self.writer, builder())
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        let line: String = text
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        bytes.extend_from_slice(format!("# {line}\r\n").as_bytes());
        self.writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(bytes);
        Ok(())
    }

    /// The file's bytes.
    pub fn finish(self) -> Result<Vec<u8>, csv::Error> {
        self.writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

/// The comment that ends an export: the evidence chain's head (CONTRACT §13) as it was
/// when the export was made, and the command that later shows nothing up to it changed.
pub fn head_comment(head: Option<&crate::store::evidence::StoredHead>) -> String {
    match head {
        Some(h) => format!(
            "evidence head (証跡チェーンの先頭) {seq}:{hash} at {at}; check: monban verify --head {seq}:{hash}",
            seq = h.seq,
            hash = h.hash,
            at = h.at.to_rfc3339()
        ),
        None => "evidence head (証跡チェーンの先頭): none (the chain is empty)".to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_prefix_is_neutralised() {
        for prefix in ['=', '+', '-', '@', '\t', '\r'] {
            let cell = format!("{prefix}HYPERLINK(\"https://evil.example\")");
            let written = neutralize(&cell);
            assert_eq!(written, format!("'{cell}"), "{prefix:?}");
            assert_eq!(restore(&written), cell, "{prefix:?}");
        }
        for plain in [
            "佐藤",
            "2026-11-21T09:00:00+09:00",
            "ehr",
            "",
            "'quoted",
            "a=b",
        ] {
            assert_eq!(neutralize(plain), plain);
            assert_eq!(restore(plain), plain);
        }
    }

    #[test]
    fn files_have_a_bom_crlf_and_neutral_cells() {
        let mut f = CsvFile::new();
        f.row(["name", "note"]).unwrap();
        f.row(["=1+1", "a,b"]).unwrap();
        f.row(["@SUM(A1)", "-2"]).unwrap();
        let bytes = f.finish().unwrap();
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(text, "name,note\r\n'=1+1,\"a,b\"\r\n'@SUM(A1),'-2\r\n");
        // Read back as a spreadsheet would: no cell starts a formula.
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                assert!(!cell.starts_with(FORMULA_START), "{cell:?}");
            }
        }
    }

    #[test]
    fn a_comment_ends_the_file_and_readers_skip_it() {
        let mut f = CsvFile::new();
        f.row(["a", "b"]).unwrap();
        f.row(["1", "2"]).unwrap();
        f.comment("evidence head 7:ab\ncd").unwrap();
        let bytes = f.finish().unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(text, "a,b\r\n1,2\r\n# evidence head 7:ab cd\r\n");
        let mut r = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        assert_eq!(r.records().count(), 1);
    }
}
