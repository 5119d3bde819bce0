use super::*;

/// A row from "code,name,kind,parent,valid_from,successor,serves" (line numbers from 2).
fn rows(lines: &[&str]) -> Vec<ImportRow> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let cells: Vec<&str> = line.split(',').collect();
            let cell = |n: usize| cells.get(n).copied().unwrap_or("").to_owned();
            ImportRow {
                line: i + 2,
                code: cell(0),
                name: cell(1),
                kind: cell(2),
                parent: cell(3),
                valid_from: cell(4),
                successor: cell(5),
                serves: cell(6),
            }
        })
        .collect()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The registry after applying `plan` to `current`, as storage would.
fn apply(current: &[RegistryEntry], plan: &ImportPlan) -> Vec<RegistryEntry> {
    let mut all: Vec<RegistryEntry> =
        current.iter().filter(|e| plan.entries().all(|p| p.agency.code != e.agency.code)).cloned().collect();
    all.extend(plan.entries().cloned());
    all
}

const PROVINCE: &[&str] = &[
    "25,UBND tỉnh Phú Thọ,province,,,,",
    "SNV,Sở Nội vụ,department,25,,,",
    "STP,Sở Tư pháp,department,25,,,",
    "TT,Trung tâm Phục vụ hành chính công,service_centre,25,,,SNV;STP",
    "TT-1,Chi nhánh số 1,service_branch,TT,,,STP",
    "07900,UBND xã A,commune,25,2025-07-01,,",
    "07901,UBND xã B,commune,25,2025-07-01,,",
    "07902,UBND xã C,commune,25,2025-07-01,,",
];

fn province() -> Vec<RegistryEntry> {
    let plan = plan(&[], &rows(PROVINCE)).expect("a valid province");
    apply(&[], &plan)
}

#[test]
fn a_new_province_is_all_added_and_a_second_import_changes_nothing() {
    let plan = plan(&[], &rows(PROVINCE)).unwrap();
    assert_eq!(plan.added.len(), 8);
    assert!(plan.changed.is_empty() && plan.closed.is_empty());
    let centre = plan.added.iter().find(|e| e.agency.code == "TT").unwrap();
    assert_eq!(centre.serves, ["SNV", "STP"]);
    assert_eq!(centre.agency.kind, AgencyKind::ServiceCentre);
    let commune = plan.added.iter().find(|e| e.agency.code == "07900").unwrap();
    assert_eq!(commune.agency.valid_from, Some(day("2025-07-01")));

    let again = super::plan(&province(), &rows(PROVINCE)).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(again.unchanged, 8);
}

#[test]
fn two_communes_merged_into_a_third_are_closed_with_their_successor() {
    let current = province();
    let merge = rows(&["07900,UBND xã A,commune,25,2026-01-01,07902,", "07901,UBND xã B,commune,25,2026-01-01,07902,"]);
    let plan = plan(&current, &merge).unwrap();
    assert_eq!(plan.closed.len(), 2);
    assert!(plan.added.is_empty() && plan.changed.is_empty());
    let a = &plan.closed[0].after;
    assert_eq!(a.agency.valid_to, Some(day("2026-01-01")));
    assert_eq!(a.agency.valid_from, Some(day("2025-07-01")), "the day it opened is kept");
    assert_eq!(a.successors, ["07902"]);
    let after = apply(&current, &plan);
    let closed = after.iter().find(|e| e.agency.code == "07900").unwrap();
    assert_eq!(reorganisation_label(closed, &after), "sáp nhập");
    assert!(!closed.agency.is_open_on(day("2026-01-01")) && closed.agency.is_open_on(day("2025-12-31")));
    // The same reorganisation again changes nothing.
    assert!(super::plan(&after, &merge).unwrap().is_empty());
}

#[test]
fn a_split_into_two_new_communes_in_one_file() {
    let current = province();
    let split = rows(&[
        "07903,UBND xã C1,commune,25,2026-01-01,,",
        "07904,UBND xã C2,commune,25,2026-01-01,,",
        "07902,UBND xã C,commune,25,2026-01-01,07904;07903,",
    ]);
    let plan = plan(&current, &split).unwrap();
    assert_eq!(plan.added.len(), 2);
    assert_eq!(plan.closed[0].after.successors, ["07903", "07904"], "sorted");
    let after = apply(&current, &plan);
    let c = after.iter().find(|e| e.agency.code == "07902").unwrap();
    assert_eq!(reorganisation_label(c, &after), "chia tách");
}

#[test]
fn a_split_carries_the_share_each_successor_takes_and_writes_it_back() {
    let current = province();
    let split = rows(&[
        "07903,UBND xã C1,commune,25,2026-01-01,,",
        "07904,UBND xã C2,commune,25,2026-01-01,,",
        "07902,UBND xã C,commune,25,2026-01-01,07904:0.4;07903:0.6,",
    ]);
    let plan = plan(&current, &split).unwrap();
    let closed = &plan.closed[0].after;
    assert_eq!(
        (closed.successors.clone(), closed.shares.clone()),
        (vec!["07903".into(), "07904".into()], vec![600, 400])
    );
    assert_eq!(successor_cell(closed), "07903:0.6;07904:0.4");
    assert_eq!(successors_shown(closed, str::to_owned), "07903 (60 %), 07904 (40 %)");
    assert_eq!(describe_change(&plan.closed[0]), ["đóng từ 2026-01-01 (kế thừa: 07903 (60 %), 07904 (40 %))"]);
    // the CSV the registry writes reads back to the same entry
    let after = apply(&current, &plan);
    let written = csv::write(&after);
    let again = super::plan(&after, &csv::read(&written).unwrap()).unwrap();
    assert!(again.is_empty(), "{again:?}");
    // a third, a decimal comma, and one successor taking the whole (the same as no share)
    let thirds = successor_list("07901:0,667;07900:0.333").unwrap();
    assert_eq!(thirds, (vec!["07900".to_owned(), "07901".into()], vec![333, 667]));
    let whole = super::plan(&current, &rows(&["07902,UBND xã C,commune,25,2026-01-01,07900:1,"])).unwrap();
    assert_eq!((whole.closed[0].after.successors.len(), whole.closed[0].after.shares.len()), (1, 0));
}

#[test]
fn shares_that_do_not_add_up_or_are_not_given_for_all_are_refused() {
    let close = |successor: &str| format!("07902,UBND xã C,commune,25,2026-01-01,{successor},");
    let said = errors(
        &province(),
        &[
            &close("07900:0.6;07901:0.3"),
            &close("07900:0.6;07901"),
            &close("07900:0.6;07900:0.4"),
            &close("07900:0;07901:1"),
            &close("07900:0.5555;07901:0.4445"),
            &close("07900:sáu;07901:0.4"),
            &close("07900:0.5"),
        ],
    );
    let line = |n: usize, text: &str| format!("Dòng {n} (07902): đơn vị kế thừa: {text}");
    let wrong = |share: &str| {
        format!("tỷ lệ \"{share}\" không hợp lệ; hãy ghi số thập phân từ 0,001 đến 1, ví dụ 07003:0.6;07004:0.4")
    };
    assert_eq!(
        said,
        [
            line(2, "tỷ lệ phân bổ phải cộng lại bằng 1 (đang là 0,9)"),
            line(3, "tỷ lệ phân bổ phải ghi cho mọi đơn vị kế thừa hoặc không ghi cho đơn vị nào"),
            line(4, "mã 07900 ghi hai lần"),
            line(5, &wrong("0")),
            line(6, &wrong("0.5555")),
            line(7, &wrong("sáu")),
            line(8, "tỷ lệ phân bổ phải cộng lại bằng 1 (đang là 0,5)"),
        ]
    );
}

#[test]
fn renames_and_moves_are_changes() {
    let current = province();
    let plan = plan(&current, &rows(&["TT-1,Chi nhánh Việt Trì,service_branch,TT,,,SNV;STP"])).unwrap();
    assert_eq!(plan.changed.len(), 1);
    let said = describe_change(&plan.changed[0]);
    assert_eq!(said, ["tên: Chi nhánh số 1 → Chi nhánh Việt Trì", "tiếp nhận hồ sơ của: STP → SNV, STP"]);
    let moved = super::plan(&current, &rows(&["STP,Sở Tư pháp,department,TT,,,"])).unwrap();
    assert_eq!(describe_change(&moved.changed[0]), ["đơn vị cha: 25 → TT"]);
}

/// Every error of a plan, as the admin reads them.
fn errors(current: &[RegistryEntry], lines: &[&str]) -> Vec<String> {
    plan(current, &rows(lines)).expect_err("the rows are refused").iter().map(ToString::to_string).collect()
}

#[test]
fn every_bad_line_is_reported_with_its_line_number() {
    let said = errors(
        &province(),
        &[
            "X1,Xã một,commune,NOPE,,,",
            "X2,Xã hai,district,25,,,",
            "X3,Xã ba,commune,25,2026-02-30,,",
            "X1,Xã một lần nữa,commune,25,,,",
            "X4,,commune,25,,,",
            "Sở X,Sở X,department,25,,,",
        ],
    );
    assert_eq!(
        said,
        [
            "Dòng 2 (X1): không có đơn vị cha mã NOPE",
            "Dòng 3 (X2): loại đơn vị \"district\" không có; dùng province, department, commune, service_centre, service_branch hoặc vertical",
            "Dòng 4 (X3): ngày \"2026-02-30\" không hợp lệ, hãy dùng dạng YYYY-MM-DD",
            "Dòng 5 (X1): mã đơn vị trùng với dòng 2",
            "Dòng 6 (X4): tên đơn vị phải dài 1–200 ký tự",
            "Dòng 7 (Sở X): mã đơn vị \"Sở X\" không hợp lệ: 1–40 ký tự gồm chữ không dấu, số và các dấu . - _",
        ]
    );
}

#[test]
fn a_cycle_of_parents_is_refused() {
    let said = errors(&province(), &["SNV,Sở Nội vụ,department,TT-1,,,", "TT,Trung tâm,service_centre,SNV,,,"]);
    assert_eq!(
        said,
        [
            "Dòng 2 (SNV): đơn vị cha tạo thành vòng lặp: SNV → TT-1 → TT → SNV",
            "Dòng 3 (TT): đơn vị cha tạo thành vòng lặp: TT → SNV → TT-1 → TT",
        ]
    );
    assert_eq!(errors(&[], &["A,A,department,A,,,"]), ["Dòng 2 (A): một đơn vị không thể là đơn vị cha của chính nó"]);
}

#[test]
fn a_closed_parent_cannot_keep_open_children() {
    let said = errors(&province(), &["TT,Trung tâm,service_centre,25,2026-01-01,SNV,"]);
    assert_eq!(
        said,
        ["Dòng 2 (TT): còn đơn vị trực thuộc hoạt động sau ngày đóng 2026-01-01: TT-1 (Chi nhánh số 1); hãy chuyển hoặc đóng chúng trước"]
    );
    // Moving the child in the same file makes it valid.
    let plan = plan(
        &province(),
        &rows(&["TT,Trung tâm,service_centre,25,2026-01-01,SNV,", "TT-1,Chi nhánh số 1,service_branch,SNV,,,STP"]),
    )
    .unwrap();
    assert_eq!((plan.closed.len(), plan.changed.len()), (1, 1));
    // A child put under an agency that is already closed names the parent.
    let merged = apply(
        &province(),
        &super::plan(&province(), &rows(&["07900,UBND xã A,commune,25,2026-01-01,07902,"])).unwrap(),
    );
    assert_eq!(
        errors(&merged, &["TDP1,Tổ dân phố 1,service_branch,07900,,,"]),
        ["Dòng 2 (TDP1): đơn vị cha 07900 đã đóng từ ngày 2026-01-01"]
    );
}

#[test]
fn closing_needs_a_day_and_successors_that_are_open_then() {
    let current = province();
    assert_eq!(
        errors(&current, &["07900,UBND xã A,commune,25,,07902,"]),
        ["Dòng 2 (07900): có đơn vị kế thừa thì cần ngày đóng ở cột valid_from"]
    );
    assert_eq!(
        errors(&current, &["07900,UBND xã A,commune,25,2026-01-01,07999,"]),
        ["Dòng 2 (07900): không có đơn vị kế thừa mã 07999"]
    );
    assert_eq!(
        errors(&current, &["07900,UBND xã A,commune,25,2025-01-01,07902,"]),
        ["Dòng 2 (07900): ngày đóng 2025-01-01 phải sau ngày bắt đầu hoạt động 2025-07-01",]
    );
    assert_eq!(
        errors(&current, &["07900,UBND xã A,commune,25,2026-01-01,07900,"]),
        ["Dòng 2 (07900): một đơn vị không thể kế thừa chính nó"]
    );
    // A successor that is itself closed by then cannot take over.
    let merged = apply(&current, &plan(&current, &rows(&["07901,UBND xã B,commune,25,2026-01-01,07902,"])).unwrap());
    assert_eq!(
        errors(&merged, &["07900,UBND xã A,commune,25,2026-03-01,07901,"]),
        ["Dòng 2 (07900): đơn vị kế thừa 07901 không hoạt động vào ngày 2026-03-01"]
    );
}

#[test]
fn a_closed_agency_is_never_reopened() {
    let current = province();
    let merged = apply(&current, &plan(&current, &rows(&["07901,UBND xã B,commune,25,2026-01-01,07902,"])).unwrap());
    assert_eq!(
        errors(&merged, &["07901,UBND xã B,commune,25,2025-07-01,,"]),
        ["Dòng 2 (07901): đơn vị đã đóng từ ngày 2026-01-01, không mở lại được; hãy đặt lại dòng có đơn vị kế thừa, hoặc tạo mã mới"]
    );
}

#[test]
fn the_root_has_no_parent_and_everything_else_has_one() {
    assert_eq!(
        errors(&province(), &["26,UBND tỉnh khác,province,25,,,", "SX,Sở X,department,,,,"]),
        ["Dòng 2 (26): UBND tỉnh là gốc của cây, không có đơn vị cha", "Dòng 3 (SX): thiếu mã đơn vị cha (cột parent)",]
    );
    assert_eq!(
        errors(&province(), &["TT-2,Chi nhánh 2,service_branch,TT,,,STP;NOPE"]),
        ["Dòng 2 (TT-2): không có đơn vị mã NOPE (cột serves)"]
    );
}

#[cfg(feature = "ssr")]
#[test]
fn any_change_to_the_registry_changes_its_fingerprint() {
    let registry = province();
    let same = fingerprint(&registry);
    assert_eq!(same.len(), 64, "SHA-256 in hex");
    assert_eq!(fingerprint(&province()), same, "the same registry, the same fingerprint");
    let mut renamed = registry.clone();
    renamed[1].agency.name = "Sở Nội vụ tỉnh".into();
    let mut opened = registry.clone();
    opened[1].agency.valid_from = Some(day("2025-07-01"));
    let mut serving = registry.clone();
    serving[2].serves = vec!["SNV".into()];
    let fewer = &registry[..registry.len() - 1];
    for (what, other) in [
        ("a name", &renamed[..]),
        ("an opening day", &opened),
        ("a served agency", &serving),
        ("one agency fewer", fewer),
    ] {
        assert_ne!(fingerprint(other), same, "{what}");
    }
}
