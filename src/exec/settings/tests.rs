use super::*;

#[test]
fn startup_parameters_are_the_reset_values() {
    let mut s = Settings::default();
    let refused = s.apply_startup([
        ("user", "mosaic"),
        ("application_name", "app"),
        ("DateStyle", "ISO"),
        ("TimeZone", "Etc/UTC"),
        ("TimeZone", "Europe/Paris"),
        (
            "options",
            "-c statement_timeout=5s --search-path=a,b -cwork_mem=8MB",
        ),
    ]);
    let names: Vec<&str> = refused.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.is_empty(), "{names:?}");
    assert_eq!(s.get("application_name").as_deref(), Some("app"));
    assert_eq!(s.get("datestyle").as_deref(), Some("ISO, MDY"));
    assert_eq!(s.get("timezone").as_deref(), Some("Europe/Paris"));
    assert_eq!(s.get("statement_timeout").as_deref(), Some("5s"));
    assert_eq!(s.statement_timeout_ms(), 5000);
    assert_eq!(s.get("search_path").as_deref(), Some("a,b"));
    assert_eq!(s.get("work_mem").as_deref(), Some("8MB"));
    assert_eq!(s.get("user"), None);

    s.set("application_name", "other".into()).unwrap();
    assert_eq!(s.get("application_name").as_deref(), Some("other"));
    s.reset(None);
    assert_eq!(s.get("application_name").as_deref(), Some("app"));
}

#[test]
fn reported_parameters_follow_changes() {
    let mut s = Settings::default();
    let before = s.generation();
    let reported: BTreeMap<_, _> = s.reported().into_iter().collect();
    assert_eq!(reported["application_name"], "");
    assert_eq!(reported["DateStyle"], "ISO, MDY");
    assert_eq!(reported["TimeZone"], "UTC");
    s.set("application_name", "x".into()).unwrap();
    assert_ne!(s.generation(), before);
    let reported: BTreeMap<_, _> = s.share().reported().into_iter().collect();
    assert_eq!(reported["application_name"], "x");
    s.reset(Some("application_name"));
    assert_eq!(s.get("application_name").as_deref(), Some(""));
}

#[test]
fn datestyle_keeps_the_part_left_out() {
    let s = Settings::default();
    s.set("DateStyle", "dmy".into()).unwrap();
    assert_eq!(s.get("datestyle").as_deref(), Some("ISO, DMY"));
    s.set("DateStyle", "ISO, YMD".into()).unwrap();
    assert_eq!(s.get("datestyle").as_deref(), Some("ISO, YMD"));
    assert_eq!(
        s.set("DateStyle", "German".into()).unwrap_err().sqlstate(),
        "0A000"
    );
    assert_eq!(
        s.set("DateStyle", "nonsense".into())
            .unwrap_err()
            .sqlstate(),
        "22023"
    );
}
