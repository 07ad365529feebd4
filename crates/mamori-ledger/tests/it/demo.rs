//! The demo ledgers survive the trip a clinic would make: exported to XLSX and CP932 CSV,
//! then imported again, every row is recognised as unchanged.

use std::collections::HashMap;

use mamori_domain::record::{RecordKind, Row};
use mamori_ledger::demo::{DemoInstitution, demo};
use mamori_ledger::export::{self, CsvEncoding, Lang};
use mamori_ledger::plan::{References, plan};

use crate::read;

#[test]
fn demo_ledgers_export_and_import_unchanged() {
    for which in [DemoInstitution::Clinic, DemoInstitution::Hospital] {
        let data = demo(which);
        let mut refs = References::new();
        let mut names: HashMap<uuid::Uuid, String> = HashMap::new();
        for row in &data.rows {
            refs.add_row(row);
            if let Some(n) = export::display_name(row) {
                names.insert(row.id.0, n);
            }
        }
        for kind in RecordKind::ALL {
            let rows: Vec<Row> = data.rows_of(kind).cloned().collect();
            let files = [
                ("demo.xlsx", export::to_xlsx(kind, &rows, &names, Lang::Ja).unwrap()),
                ("demo.csv", export::to_csv(kind, &rows, &names, Lang::Ja, CsvEncoding::ShiftJis).unwrap()),
            ];
            for (file, bytes) in files {
                let p = plan(&read(&bytes, file).unwrap(), kind, &rows, &refs).unwrap();
                assert!(p.problems.is_empty(), "{which:?} {kind} {file}: {:?}", &p.problems[..p.problems.len().min(3)]);
                assert_eq!(p.counts(), (0, 0, rows.len()), "{which:?} {kind} {file}");
            }
        }
    }
}
