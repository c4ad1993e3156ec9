//! Random mutations of real inputs through every parser of outside text, for a bounded time: the CSDL
//! reader, the resolver and the generator (on corpus documents), the option-set reader, and the
//! runtime's parsers (strict JSON, entity JSON of a generated type, Edm literals, `$batch` answers).
//! The property: a value or an error, never a panic, and the process never above a memory bound.
//!
//! `ROBUSTNESS_SECS` sets the time (default 20 s, CI); `ROBUSTNESS_SEED` the seed (printed, so a failure
//! can be replayed). `tests/robustness.sh` runs it longer.

use std::time::{Duration, Instant};

use dualsync::json::EntityJson;
use dualsync_codegen::csdl::{self, optionsets};
use dualsync_codegen::emit::{self, Options};
use dualsync_codegen::model::Model;
use dualsync_generated::dataverse::Account;
use dualsync_tests::{corpus_dir, workspace};

/// Peak resident memory of the process must stay below this.
const MAX_PEAK_MIB: f64 = 1536.0;

/// xorshift64*: small, seedable, good enough for choosing mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that make parsers work: markup, quotes, escapes, digits, huge numbers, multi-byte characters.
const INTERESTING: &[&[u8]] = &[
    b"<",
    b">",
    b"\"",
    b"'",
    b"&amp;",
    b"&#x0;",
    b"<!--",
    b"]]>",
    b"\\u0000",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"99999999999999999999999999999999",
    b"1e400",
    b"-0",
    b"\xe2\x80\xae",
    b"\xc3",
    b"\xff",
    b"\r\n",
    b"--",
    b"\x1b[2J",
    b"Edm.Decimal",
    b"Collection(",
    b"</Schema>",
    b"<EntityType Name=\"x\">",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 => {
                if at < bytes.len() {
                    bytes[at] ^= 1 << rng.below(8);
                }
            }
            2 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                bytes.splice(at..at, piece.iter().copied());
            }
            3 => {
                // Remove a run.
                let end = (at + rng.below(64)).min(bytes.len());
                bytes.drain(at..end);
            }
            4 => {
                // Duplicate a run (repeats elements and keys).
                let end = (at + rng.below(256)).min(bytes.len());
                let run = bytes[at..end].to_vec();
                bytes.splice(end..end, run);
            }
            _ => {
                // Splice in a run from elsewhere in the input.
                let from = rng.below(input.len());
                let end = (from + rng.below(128)).min(input.len());
                bytes.splice(at..at, input[from..end].iter().copied());
            }
        }
    }
    bytes
}

fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn csdl_round(bytes: &[u8]) {
    let Ok(document) = csdl::parse_bytes(bytes) else {
        return;
    };
    let Ok(model) = Model::resolve(vec![document]) else {
        return;
    };
    let _ = emit::generate(&model, &Options::default());
}

const ACCOUNT: &str = r#"{"@odata.etag":"W/\"1\"","accountid":"00000000-0000-4000-8000-000000000001","accountnumber":"A-001","name":"Contoso","creditlimit":1234.5678901234,"revenue":1e3,"numberofemployees":12,"creditonhold":false,"modifiedon":"2024-05-01T09:30:00.1234567+02:00","customertypecode":3,"_transactioncurrencyid_value":null,"address1_latitude":52.52}"#;

fn runtime_round(bytes: &[u8]) {
    if let Ok(serde_json::Value::Object(object)) = dualsync::json::parse_strict(bytes) {
        let _ = Account::from_json_object(&object);
    }
    let text = String::from_utf8_lossy(bytes);
    let _ = text.parse::<dualsync::edm::Decimal>();
    let _ = text.parse::<dualsync::edm::Duration>();
    let _ = text.parse::<dualsync::edm::DateTimeOffset>();
    let _ = text.parse::<dualsync::edm::Date>();
    let _ = text.parse::<dualsync::edm::TimeOfDay>();
    let _ = text.parse::<dualsync::edm::Guid>();
    let _ = text.parse::<dualsync::edm::Binary>();
}

#[test]
fn mutated_inputs_give_values_or_errors_never_panics() {
    let secs: u64 = std::env::var("ROBUSTNESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("ROBUSTNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("robustness: seed {seed} (ROBUSTNESS_SEED={seed} replays it), {secs} s");
    let corpus = corpus_dir();
    let documents: Vec<Vec<u8>> = dualsync_tests::corpus_documents()
        .iter()
        .map(|d| std::fs::read(corpus.join(d)).unwrap())
        .filter(|bytes| bytes.len() < 600_000)
        .collect();
    let option_sets: Vec<String> = std::fs::read_dir(corpus.join("dataverse-optionsets"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with("OptionSetAttribute.json"))
        .filter(|p| std::fs::metadata(p).map(|m| m.len() < 100_000).unwrap_or(false))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let batches: Vec<Vec<u8>> = [
        "dataverse-response.txt",
        "dataverse-response-continue-on-error.txt",
        "fno-response.txt",
    ]
    .iter()
    .map(|f| std::fs::read(workspace().join("runtime/tests/fixtures/batch").join(f)).unwrap())
    .collect();
    assert!(!documents.is_empty() && !option_sets.is_empty());
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut rounds = 0u64;
    while Instant::now() < deadline {
        let document = &documents[rng.below(documents.len())];
        csdl_round(&mutate(&mut rng, document));
        let json = &option_sets[rng.below(option_sets.len())];
        let mutated = mutate(&mut rng, json.as_bytes());
        let _ = optionsets::parse_option_sets(&String::from_utf8_lossy(&mutated), Some("account"));
        for _ in 0..20 {
            runtime_round(&mutate(&mut rng, ACCOUNT.as_bytes()));
        }
        let batch = &batches[rng.below(batches.len())];
        let boundary = String::from_utf8_lossy(batch)
            .lines()
            .next()
            .unwrap_or("--x")
            .trim_start_matches("--")
            .to_string();
        let _ = dualsync::odata::multipart::decode(
            &format!("multipart/mixed; boundary={boundary}"),
            &mutate(&mut rng, batch),
        );
        rounds += 1;
        assert!(
            peak_mib() < MAX_PEAK_MIB,
            "peak memory {} MiB after {rounds} rounds",
            peak_mib()
        );
    }
    eprintln!("robustness: {rounds} rounds, peak {:.0} MiB", peak_mib());
    assert!(rounds > 0);
}
