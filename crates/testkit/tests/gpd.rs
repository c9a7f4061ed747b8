//! The GPD simulator launcher (`palazzo_testkit::gpd`): a simulator per test
//! on its own port and key, spoken to over HTTP as Palazzo's client will.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_testkit::gpd::{API_KEY_HEADER, GpdSimulator};
use serde_json::{Value, json};

const ORG: &str = "80004990727";

fn tari_tefa() -> Value {
    json!({
        "iupd": "80004990727-TARI-2027-0001",
        "type": "F",
        "fiscalCode": "RSSMRA80A01H501U",
        "fullName": "Mario Rossi",
        "companyName": "Comune di Casamassima",
        "switchToExpired": false,
        "paymentOption": [{
            "iuv": "01000000000000144",
            "amount": 19_671,
            "description": "TARI 2027 rata unica",
            "isPartialPayment": false,
            "dueDate": "2027-07-31T23:59:59Z",
            "transfer": [
                {"idTransfer": "1", "amount": 18_734, "remittanceInformation": "TARI 2027",
                 "category": "9/0101108TS/", "iban": "IT60X0542811101000000123456"},
                {"idTransfer": "2", "amount": 937, "organizationFiscalCode": "80000110728",
                 "remittanceInformation": "TEFA 2027", "category": "9/0201133IM/",
                 "iban": "IT60X0542811101000000654321"}
            ]
        }]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulator_per_test_with_its_key_payment_and_double_payment() {
    let gpd = GpdSimulator::start();
    let other = GpdSimulator::start();
    assert_ne!(gpd.port, other.port);
    assert_ne!(gpd.api_key, other.api_key);
    let http = reqwest::Client::new();
    let positions = format!("{}/organizations/{ORG}/debtpositions", gpd.base_url());

    // Without the key, or with the other simulator's: 401, nothing created.
    let r = http
        .post(format!("{positions}?toPublish=true"))
        .json(&tari_tefa())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .post(format!("{positions}?toPublish=true"))
        .header(API_KEY_HEADER, &other.api_key)
        .json(&tari_tefa())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let r = http
        .post(format!("{positions}?toPublish=true"))
        .header(API_KEY_HEADER, &gpd.api_key)
        .json(&tari_tefa())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["status"], "VALID");
    let nav = created["paymentOption"][0]["nav"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(nav, "301000000000000144");

    let (status, paid) = gpd.pay(ORG, &nav, json!({"amount": 19_671})).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "PO_PAID");
    let (status, again) = gpd.pay(ORG, &nav, json!({})).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["title"], "PAA_PAGAMENTO_DUPLICATO");

    let got: Value = http
        .get(format!("{positions}/80004990727-TARI-2027-0001"))
        .header(API_KEY_HEADER, &gpd.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "PAID");
    assert_eq!(
        got["paymentOption"][0]["transfer"][1]["organizationFiscalCode"],
        "80000110728"
    );
    gpd.assert_no_contract_violation();
}
