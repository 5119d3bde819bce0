//! The registry's CSV format: header `code,name,kind,parent,valid_from,successor,serves` in any
//! order, lists `;`-separated (see `domain::table` for what a readable file is). Text a
//! spreadsheet would run as a formula is written with a leading `'` and read back without it
//! (`domain::export::inert_text`).

use super::{ImportRow, RegistryEntry, RowError};
use crate::domain::export::{from_inert_text, inert_text};
use crate::domain::table::{read_csv, write_csv};

pub const HEADER: [&str; 7] = ["code", "name", "kind", "parent", "valid_from", "successor", "serves"];

/// The rows of a registry file, or every reason it cannot be read.
pub fn read(text: &str) -> Result<Vec<ImportRow>, Vec<RowError>> {
    Ok(read_csv(text, &HEADER)?
        .into_iter()
        .map(|row| {
            let mut cells = row.cells.into_iter();
            let mut next = || cells.next().map(|cell| from_inert_text(&cell).to_owned()).unwrap_or_default();
            ImportRow {
                line: row.line,
                code: next(),
                name: next(),
                kind: next(),
                parent: next(),
                valid_from: next(),
                successor: next(),
                serves: next(),
            }
        })
        .collect())
}

/// The registry as a file [`read`] takes back unchanged. A closed agency's row carries the day it
/// closed and its successors (the day it opened is not part of the format).
pub fn write(entries: &[RegistryEntry]) -> String {
    write_csv(
        &HEADER,
        entries.iter().map(|entry| {
            let agency = &entry.agency;
            vec![
                agency.code.clone(),
                agency.name.clone(),
                agency.kind.as_str().to_owned(),
                agency.parent.clone().unwrap_or_default(),
                agency.valid_to.or(agency.valid_from).map(|d| d.to_string()).unwrap_or_default(),
                super::successor_cell(entry),
                entry.serves.join(";"),
            ]
            .into_iter()
            .map(|cell| inert_text(&cell).into_owned())
            .collect()
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\u{feff}code,name,kind,parent,valid_from,successor,serves\r\n\
        25,UBND tỉnh Phú Thọ,province,,,,\r\n\
        \"TT\",\"Trung tâm Phục vụ hành chính công, tỉnh Phú Thọ\",service_centre,25,,,SNV;STP\r\n\
        \r\n\
        SNV,Sở Nội vụ,department,25,,,\r\n\
        STP,Sở Tư pháp,department,25,,,\r\n";

    #[test]
    fn an_excel_file_with_a_bom_quotes_and_blank_lines_is_read_with_its_line_numbers() {
        let rows = read(FILE).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!((rows[0].line, rows[0].code.as_str()), (2, "25"));
        assert_eq!(rows[1].name, "Trung tâm Phục vụ hành chính công, tỉnh Phú Thọ");
        assert_eq!(rows[1].serves, "SNV;STP");
        assert_eq!((rows[2].line, rows[2].code.as_str()), (5, "SNV"), "the blank line 4 still counts");
    }

    #[test]
    fn columns_may_come_in_any_order_but_all_must_be_there() {
        let rows = read("name,code,kind,parent,valid_from,successor,serves\nSở Nội vụ,SNV,department,25,,,\n").unwrap();
        assert_eq!((rows[0].code.as_str(), rows[0].name.as_str()), ("SNV", "Sở Nội vụ"));
        let error = read("code,name,kind,parent\nSNV,Sở Nội vụ,department,25\n").unwrap_err();
        assert_eq!(
            error[0].to_string(),
            "dòng tiêu đề phải gồm đúng các cột code,name,kind,parent,valid_from,successor,serves (thiếu: valid_from, successor, serves; thừa hoặc trùng: không)"
        );
        let short = read("code,name,kind,parent,valid_from,successor,serves\nSNV,Sở Nội vụ,department\n").unwrap_err();
        assert_eq!(short[0].to_string(), "Dòng 2 (SNV): dòng có 3 cột, cần 7");
    }

    #[test]
    fn what_is_written_reads_back_as_the_same_plan() {
        let rows = read(FILE).unwrap();
        let plan = super::super::plan(&[], &rows).unwrap();
        let entries: Vec<RegistryEntry> = plan.added.clone();
        let written = write(&entries);
        assert!(super::super::plan(&entries, &read(&written).unwrap()).unwrap().is_empty());
        assert!(written.contains("\"Trung tâm Phục vụ hành chính công, tỉnh Phú Thọ\""));
    }

    #[test]
    fn a_name_a_spreadsheet_would_run_is_written_inert_and_reads_back_the_same() {
        let file = "code,name,kind,parent,valid_from,successor,serves\n\
            25,UBND tỉnh Phú Thọ,province,,,,\n\
            -1,\"=HYPERLINK(\"\"http://x\"\")\",department,25,,,\n";
        let plan = super::super::plan(&[], &read(file).unwrap()).unwrap();
        let written = write(&plan.added);
        assert!(written.contains("'-1,\"'=HYPERLINK(\"\"http://x\"\")\",department,25"), "{written}");
        let back = read(&written).unwrap();
        assert_eq!((back[1].code.as_str(), back[1].name.as_str()), ("-1", "=HYPERLINK(\"http://x\")"));
        assert!(super::super::plan(&plan.added, &back).unwrap().is_empty());
    }
}
