use mamori_ledger::read::{Encoding, Format, Limits, ReadError, read_file};
use rust_xlsxwriter::Workbook;

use crate::read;
use crate::xlsx::clinic_workbook;

#[test]
fn truncated_xlsx_is_damaged() {
    let full = clinic_workbook();
    for cut in [full.len() / 2, full.len() - 30, 100] {
        let err = read(&full[..cut], "台帳.xlsx").unwrap_err();
        assert_eq!(err.code(), "damaged", "cut at {cut}: {err}");
        assert!(matches!(err, ReadError::Damaged { format: Format::Zip, .. }));
    }
}

#[test]
fn binary_named_csv_is_not_text() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0";
    assert_eq!(read(png, "台帳.csv").unwrap_err().code(), "not-text");
    // An executable without NULs in its first bytes is still mostly control characters.
    let noise: Vec<u8> = (1..=255u8).cycle().take(4096).map(|b| b % 31 + 1).collect();
    assert_eq!(read(&noise, "台帳.csv").unwrap_err(), ReadError::NotText);
}

/// A minimal OLE compound file whose directory names an `EncryptedPackage` stream, as Excel
/// writes a password-protected XLSX (header sector, then one directory sector).
fn encrypted_ooxml() -> Vec<u8> {
    let mut f = vec![0u8; 1024];
    f[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    f[0x18..0x1A].copy_from_slice(&0x003Eu16.to_le_bytes()); // minor version
    f[0x1A..0x1C].copy_from_slice(&3u16.to_le_bytes()); // major version 3
    f[0x1C..0x1E].copy_from_slice(&0xFFFEu16.to_le_bytes()); // little-endian
    f[0x1E..0x20].copy_from_slice(&9u16.to_le_bytes()); // 512-byte sectors
    let name: Vec<u8> = "EncryptedPackage\0".encode_utf16().flat_map(u16::to_le_bytes).collect();
    f[512..512 + name.len()].copy_from_slice(&name);
    f
}

#[test]
fn password_protected_xlsx() {
    let err = read(&encrypted_ooxml(), "台帳.xlsx").unwrap_err();
    assert_eq!(err, ReadError::PasswordProtected);
    assert_eq!(err.code(), "password-protected");
}

#[test]
fn too_many_rows() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for r in 0..50 {
        ws.write_string(r, 0, "行").unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let small = Limits { max_rows: 20, ..Limits::default() };
    let err = read_file(&bytes, "big.xlsx", Encoding::Auto, &small).unwrap_err();
    assert_eq!(
        err,
        ReadError::TooLarge { sheet: Some("Sheet1".into()), rows: 21, max_rows: 20 },
        "reading stops at row 21"
    );
    assert_eq!((err.code(), err.sheet()), ("too-many-rows", Some("Sheet1")));

    let csv = "a\n".repeat(50);
    let err = read_file(csv.as_bytes(), "big.csv", Encoding::Auto, &small).unwrap_err();
    assert_eq!(err.code(), "too-many-rows");
    assert!(read_file(&bytes, "big.xlsx", Encoding::Auto, &Limits { max_rows: 50, ..small }).is_ok());
}

#[test]
fn too_many_bytes() {
    let err =
        read_file(&clinic_workbook(), "x.xlsx", Encoding::Auto, &Limits { max_rows: 10, max_bytes: 1000 }).unwrap_err();
    assert!(matches!(err, ReadError::FileTooLarge { max_bytes: 1000, .. }), "{err}");
}

#[test]
fn formatting_down_to_the_last_row_costs_nothing() {
    // Clinics' sheets are often formatted to row 1,048,576; only cells with values count.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "機器名").unwrap();
    ws.write_blank(1_048_575, 16_383, &rust_xlsxwriter::Format::new().set_bold()).unwrap();
    let limits = Limits { max_rows: 100, ..Limits::default() };
    let sheets = read_file(&wb.save_to_buffer().unwrap(), "x.xlsx", Encoding::Auto, &limits).unwrap();
    assert_eq!(sheets[0].rows.len(), 1);

    let mut wb = Workbook::new();
    wb.add_worksheet().write_string(500, 0, "遠い").unwrap();
    let err = read_file(&wb.save_to_buffer().unwrap(), "x.xlsx", Encoding::Auto, &limits).unwrap_err();
    assert_eq!(err, ReadError::TooLarge { sheet: Some("Sheet1".into()), rows: 501, max_rows: 100 });
}
