use super::*;

#[test]
fn the_font_has_swedish_letters() {
    let f = font().unwrap();
    for c in "åäöÅÄÖéü".chars() {
        assert_ne!(f.glyph(c).0, 0, "{c}");
    }
    assert!(text_width("Åsa Öberg", 10.0) > 30.0);
}

#[test]
fn wrapping_breaks_at_spaces_and_inside_long_words() {
    let f = font().unwrap();
    let lines = wrap(
        f,
        "Åsa Öberg och Ärla Ångström",
        text_width("Åsa Öberg och", 9.0) + 0.5,
        9.0,
    );
    assert_eq!(lines, vec!["Åsa Öberg och", "Ärla Ångström"]);
    let long = "x".repeat(200);
    let lines = wrap(f, &long, 50.0, 9.0);
    assert!(lines.len() > 3 && lines.concat() == long);
    assert!(lines.iter().all(|l| text_width(l, 9.0) <= 50.0));
}

#[test]
fn tables_flow_over_pages_and_every_page_is_numbered() {
    let frame = Frame {
        landscape: false,
        title: "Test".into(),
        header: vec!["Företag: Åbergs Bygg AB".into()],
        document_title: "t".into(),
    };
    let rows: Vec<Vec<String>> = (0..300)
        .map(|i| vec![format!("rad {i}"), "Ö".repeat(i % 40)])
        .collect();
    let pdf = render(
        &frame,
        &[
            Block::Heading("Rubrik".into()),
            Block::Table(Table {
                columns: vec![("A".into(), 1.0), ("B".into(), 3.0)],
                rows,
                size: 8.0,
            }),
        ],
    )
    .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let mut l = Layout::new(font().unwrap(), &frame);
    l.table(&Table {
        columns: vec![("A".into(), 1.0)],
        rows: (0..300).map(|i| vec![i.to_string()]).collect(),
        size: 8.0,
    });
    assert!(l.pages.len() > 3);
}
