use super::*;

#[test]
fn the_information_of_article_15_is_all_there_in_swedish() {
    assert!(LEGAL_BASIS.contains("39 kap. 11–12 §§ skatteförfarandelagen"));
    assert!(LEGAL_BASIS.contains("9 kap. 5 § skatteförfarandeförordningen"));
    assert!(LEGAL_BASIS.contains("artikel 6.1 c"));
    assert!(RECIPIENTS.starts_with("Skatteverket"));
    assert!(STORAGE_PERIOD.contains("två år efter utgången av det kalenderår"));
    assert!(PURPOSES.contains("personalliggare"));
    assert!(RIGHTS.contains("Integritetsskyddsmyndigheten"));
    for k in AnomalyKind::ALL {
        assert!(!anomaly_sv(k).is_empty());
        assert_ne!(anomaly_sv(k), k.as_str(), "{k:?} must be said in Swedish");
    }
    assert_eq!(hours_minutes(425), "7 h 05 min");
    assert_eq!(direction_sv(crate::model::Direction::Out), "ut");
}
