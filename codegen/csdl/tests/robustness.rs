//! Property tests: random cuts, byte flips and splices of real documents never panic or hang, and
//! every error's span lies inside the input.

mod common;

use dualsync_csdl::model::Model;
use proptest::prelude::*;

const DOCUMENTS: [&str; 4] = [
    "odata/TripPin.xml",
    "odata/odata2ts-library.xml",
    "fo/captured/old-tests-trimmed_metadata_100.xml",
    "odata/oasis-annotations.xml",
];

fn check(bytes: &[u8]) {
    match dualsync_csdl::parse_bytes(bytes) {
        Err(e) => assert!(
            e.span.start <= bytes.len() && e.span.end <= bytes.len(),
            "span {:?} of {}",
            e.span,
            bytes.len()
        ),
        Ok(document) => {
            if let Err(errors) = Model::resolve(vec![document]) {
                for e in errors.0 {
                    assert!(e.span.end <= bytes.len(), "span {:?} of {}", e.span, bytes.len());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn random_cuts_never_panic(doc in 0..DOCUMENTS.len(), cut in 0.0f64..1.0) {
        let bytes = common::read(DOCUMENTS[doc]);
        let at = (bytes.len() as f64 * cut) as usize;
        check(&bytes[..at]);
    }

    #[test]
    fn random_byte_flips_never_panic(doc in 0..DOCUMENTS.len(), flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 1..8)) {
        let mut bytes = common::read(DOCUMENTS[doc]);
        for (at, value) in flips {
            let i = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[i] = value;
        }
        check(&bytes);
    }

    #[test]
    fn random_splices_never_panic(doc in 0..DOCUMENTS.len(), from in 0.0f64..1.0, to in 0.0f64..1.0, len in 1usize..400) {
        let bytes = common::read(DOCUMENTS[doc]);
        let a = (bytes.len() as f64 * from) as usize;
        let b = (bytes.len() as f64 * to) as usize;
        let mut spliced = bytes[..a].to_vec();
        spliced.extend_from_slice(&bytes[b..(b + len).min(bytes.len())]);
        spliced.extend_from_slice(&bytes[a..]);
        check(&spliced);
    }
}
