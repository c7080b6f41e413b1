use super::*;

#[test]
fn refs_are_stable_scoped_and_opaque() {
    let k = PseudonymKey::new(b"secret".to_vec());
    let a = Orgnr::parse("5560360793").unwrap();
    let b = Orgnr::parse("198112189876").unwrap();
    let p = PersonId::parse("198112189876", None, None).unwrap();
    assert_eq!(k.person_ref(&a, &p), k.person_ref(&a, &p));
    assert_ne!(k.person_ref(&a, &p), k.person_ref(&b, &p));
    assert!(!k.person_ref(&a, &p).contains("8112"));
    assert!(!k.company_key(&b).contains("8112189876"));
    let other = PseudonymKey::new(b"other".to_vec());
    assert_ne!(k.person_ref(&a, &p), other.person_ref(&a, &p));
}
