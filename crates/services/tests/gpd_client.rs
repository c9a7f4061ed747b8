//! The pagoPA GPD client (`palazzo_services::pagopa::gpd`) against the local
//! simulator, which validates every request and response against the
//! published contract (DECISIONS 31, 32; `docs/pagopa.md`). Each of GPD's
//! rejections is exercised: locally where the client checks first, and by
//! the simulator with the local checks off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use palazzo_domain::Coded;
use palazzo_domain::money::Cents;
use palazzo_domain::pagopa::CodiceAvviso;
use palazzo_services::pagopa::gpd::{
    Beneficiary, DebtPositionStatus, DebtorType, GpdClient, GpdError, ListQuery, LocalTaxPosition,
    Notice, OrderBy, PaymentOptionStatus, PositionCheckError, TransferStatus,
};
use palazzo_testkit::gpd::GpdSimulator;
use serde_json::json;

/// Comune di Casamassima.
const ORG: &str = "80004990727";
/// Città metropolitana di Bari (TEFA).
const PROVINCE: &str = "80000110728";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn client(gpd: &GpdSimulator) -> GpdClient {
    GpdClient::new(&gpd.base_url(), &gpd.api_key, Duration::from_secs(20)).unwrap()
}

/// A TARI 2027 + TEFA notice: the single payment (187,34 € + 9,37 €) and
/// two instalments, each to the comune (transfer 1) and the province
/// (transfer 2). `n` makes the IUPD and IUVs distinct.
fn tari_tefa(n: u32) -> LocalTaxPosition {
    // Segregation code 01, base n·10⁴ + k: valid check digits.
    let codice = |k: u32| CodiceAvviso::aux3(1, u64::from(n) * 10_000 + u64::from(k)).unwrap();
    LocalTaxPosition {
        iupd: format!("{ORG}-TARI-2027-{n:05}"),
        debtor_type: DebtorType::F,
        fiscal_code: "RSSMRA80A01H501U".into(),
        full_name: "Mario Rossi".into(),
        email: Some("mario.rossi@example.it".into()),
        company_name: "Comune di Casamassima".into(),
        office_name: Some("Ufficio Tributi".into()),
        validity_date: None,
        switch_to_expired: false,
        beneficiaries: vec![
            Beneficiary {
                organization_fiscal_code: None,
                company_name: None,
                iban: "IT60X0542811101000000123456".into(),
                category: "9/0101108TS/".into(),
                remittance_information: "TARI 2027".into(),
            },
            Beneficiary {
                organization_fiscal_code: Some(PROVINCE.into()),
                company_name: Some("Città Metropolitana di Bari".into()),
                iban: "IT60X0542811101000000654321".into(),
                category: "9/0201133IM/".into(),
                remittance_information: "TEFA 2027".into(),
            },
        ],
        single: Notice {
            codice: codice(0),
            description: "TARI 2027 - unica soluzione".into(),
            due_date: ts("2027-05-31T21:59:59Z"),
            shares: vec![Cents::from_cents(18_734), Cents::from_cents(937)],
        },
        instalments: vec![
            Notice {
                codice: codice(1),
                description: "TARI 2027 - rata 1 di 2".into(),
                due_date: ts("2027-05-31T21:59:59Z"),
                shares: vec![Cents::from_cents(9_367), Cents::from_cents(469)],
            },
            Notice {
                codice: codice(2),
                description: "TARI 2027 - rata 2 di 2".into(),
                due_date: ts("2027-11-30T22:59:59Z"),
                shares: vec![Cents::from_cents(9_367), Cents::from_cents(468)],
            },
        ],
    }
}

/// The code of an error, or a panic naming what came instead.
fn code<T: std::fmt::Debug>(r: Result<T, GpdError>) -> (&'static str, GpdError) {
    match r {
        Err(e) => (e.code(), e),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

async fn assert_absent(c: &GpdClient, iupd: &str) {
    let (c, _) = code(c.get_position(ORG, iupd).await);
    assert_eq!(c, "gpd_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tari_tefa_position_round_trips_and_is_published() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);
    let tax = tari_tefa(1);
    let position = tax.to_position().unwrap();

    // §4.5: the single payment is not partial, the instalments are.
    let partial: Vec<bool> = position
        .payment_option
        .iter()
        .map(|o| o.is_partial_payment)
        .collect();
    assert_eq!(partial, [false, true, true]);
    assert_eq!(position.payment_option[0].amount, Cents::from_cents(19_671));

    let created = c.create_position(ORG, &position, false).await.unwrap();
    assert_eq!(created.status, Some(DebtPositionStatus::Draft));
    assert_eq!(created.iupd, tax.iupd);
    assert_eq!(created.fiscal_code, "RSSMRA80A01H501U");
    assert_eq!(created.payment_option.len(), 3);

    let got = c.get_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(got.iupd.as_deref(), Some(tax.iupd.as_str()));
    assert_eq!(got.organization_fiscal_code.as_deref(), Some(ORG));
    assert_eq!(got.debtor_type, Some(DebtorType::F));
    assert_eq!(got.company_name.as_deref(), Some("Comune di Casamassima"));
    assert_eq!(got.office_name.as_deref(), Some("Ufficio Tributi"));
    assert_eq!(got.status, Some(DebtPositionStatus::Draft));
    assert_eq!(got.payment_option.len(), 3);
    for (sent, back) in position.payment_option.iter().zip(&got.payment_option) {
        assert_eq!(back.iuv.as_deref(), Some(sent.iuv.as_str()));
        // GPD's default NAV: aux digit 3 + IUV.
        assert_eq!(back.nav, Some(format!("3{}", sent.iuv)));
        assert_eq!(back.amount, Some(sent.amount));
        assert_eq!(back.description.as_deref(), Some(sent.description.as_str()));
        assert_eq!(back.is_partial_payment, Some(sent.is_partial_payment));
        assert_eq!(back.due_date, Some(sent.due_date));
        assert_eq!(back.status, Some(PaymentOptionStatus::Unpaid));
        assert_eq!(back.transfer.len(), 2);
        for (st, bt) in sent.transfer.iter().zip(&back.transfer) {
            assert_eq!(bt.id_transfer.as_deref(), Some(st.id_transfer.as_str()));
            assert_eq!(bt.amount, Some(st.amount));
            assert_eq!(bt.iban, st.iban);
            assert_eq!(bt.category.as_deref(), Some(st.category.as_str()));
            assert_eq!(
                bt.remittance_information.as_deref(),
                Some(st.remittance_information.as_str())
            );
            assert_eq!(bt.status, Some(TransferStatus::Unreported));
        }
        // Transfer 1 to the comune, transfer 2 to the province (TEFA).
        assert_eq!(
            back.transfer[1].organization_fiscal_code.as_deref(),
            Some(PROVINCE)
        );
        assert_ne!(
            back.transfer[0].organization_fiscal_code.as_deref(),
            Some(PROVINCE)
        );
    }

    // No validity date: publishing makes it VALID at once.
    let published = c.publish_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(published.status, Some(DebtPositionStatus::Valid));
    assert!(published.validity_date.is_some());
    let got = c.get_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(got.status, Some(DebtPositionStatus::Valid));
    assert!(got.publish_date.is_some());
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_sum_is_refused_locally_and_by_gpd() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);
    let tax = tari_tefa(2);
    let mut position = tax.to_position().unwrap();
    // The province's share of the single payment one cent short.
    position.payment_option[0].transfer[1].amount = Cents::from_cents(936);

    let (code_local, e) = code(c.create_position(ORG, &position, true).await);
    assert_eq!(code_local, "gpd_transfers_sum");
    assert_eq!(
        e,
        GpdError::Check(PositionCheckError::TransfersSum {
            iuv: tax.single.codice.iuv(),
            amount: Cents::from_cents(19_671),
            transfers: Some(Cents::from_cents(19_670)),
        })
    );
    assert!(e.message_it().contains("196,70 €"), "{}", e.message_it());
    assert_absent(&c, &tax.iupd).await;

    // The same position sent as is: GPD refuses it with its ProblemJson.
    let raw = client(&gpd).without_local_checks();
    let (code_remote, e) = code(raw.create_position(ORG, &position, true).await);
    assert_eq!(code_remote, "gpd_validation");
    let GpdError::Validation(problem) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(problem.status, Some(400));
    assert!(problem.detail.is_some(), "{problem:?}");
    assert_absent(&c, &tax.iupd).await;

    // The helper refuses instalments that do not add up to the whole.
    let mut short = tari_tefa(3);
    short.instalments[1].shares[0] = Cents::from_cents(9_000);
    let err = short.to_position().unwrap_err();
    assert_eq!(err.code(), "gpd_instalments_sum");
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_date_before_the_validity_date_is_refused() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);
    let mut tax = tari_tefa(4);
    // Valid from 1 June 2027, but the single payment and rata 1 are due
    // on 31 May.
    tax.validity_date = Some(ts("2027-06-01T00:00:00Z"));
    let err = tax.to_position().unwrap_err();
    assert_eq!(err.code(), "gpd_dates_order");

    tax.validity_date = None;
    let mut position = tax.to_position().unwrap();
    position.validity_date = Some(ts("2027-06-01T00:00:00Z"));
    let (local, _) = code(c.create_position(ORG, &position, false).await);
    assert_eq!(local, "gpd_dates_order");

    let raw = client(&gpd).without_local_checks();
    let (remote, e) = code(raw.create_position(ORG, &position, false).await);
    assert_eq!(remote, "gpd_validation", "{e:?}");
    assert_absent(&c, &tax.iupd).await;
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_iupd_and_iuv_are_refused() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);
    let first = tari_tefa(5).to_position().unwrap();
    c.create_position(ORG, &first, true).await.unwrap();

    // The same IUPD again: 409.
    let (dup, e) = code(c.create_position(ORG, &first, true).await);
    assert_eq!(dup, "gpd_conflict", "{e:?}");

    // Another IUPD reusing an IUV of the first position: 409.
    let mut second = tari_tefa(6).to_position().unwrap();
    second.payment_option[2].iuv = first.payment_option[2].iuv.clone();
    second.payment_option[2].nav = first.payment_option[2].nav.clone();
    let (dup_iuv, e) = code(c.create_position(ORG, &second, true).await);
    assert_eq!(dup_iuv, "gpd_conflict", "{e:?}");
    assert_absent(&c, &second.iupd).await;

    // An IUV twice within one position: refused locally, and by GPD (400).
    let mut twice = tari_tefa(7).to_position().unwrap();
    twice.payment_option[2].iuv = twice.payment_option[1].iuv.clone();
    twice.payment_option[2].nav = twice.payment_option[1].nav.clone();
    let (local, e) = code(c.create_position(ORG, &twice, true).await);
    assert_eq!(local, "gpd_duplicate_iuv", "{e:?}");
    let raw = client(&gpd).without_local_checks();
    let (remote, e) = code(raw.create_position(ORG, &twice, true).await);
    assert_eq!(remote, "gpd_validation", "{e:?}");
    assert_absent(&c, &twice.iupd).await;

    // The first is untouched.
    let got = c.get_position(ORG, &first.iupd).await.unwrap();
    assert_eq!(got.status, Some(DebtPositionStatus::Valid));
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_and_delete_are_refused_once_paid() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);
    let mut position = tari_tefa(8).to_position().unwrap();
    c.create_position(ORG, &position, true).await.unwrap();

    // Before payment an update is accepted (back to DRAFT, then published).
    position.payment_option[0].description = "TARI 2027 - unica soluzione (rettifica)".into();
    let updated = c
        .update_position(ORG, &position.iupd, &position, true)
        .await
        .unwrap();
    assert_eq!(updated.status, Some(DebtPositionStatus::Valid));
    let got = c.get_position(ORG, &position.iupd).await.unwrap();
    assert_eq!(
        got.payment_option[0].description.as_deref(),
        Some("TARI 2027 - unica soluzione (rettifica)")
    );

    // A body whose IUPD is not the path's: refused locally, and by GPD
    // (400) on an existing position.
    let neighbour = tari_tefa(15).to_position().unwrap();
    c.create_position(ORG, &neighbour, false).await.unwrap();
    let (local, e) = code(
        c.update_position(ORG, &neighbour.iupd, &position, false)
            .await,
    );
    assert_eq!(local, "gpd_iupd_mismatch", "{e:?}");
    let raw = client(&gpd).without_local_checks();
    let (remote, e) = code(
        raw.update_position(ORG, &neighbour.iupd, &position, false)
            .await,
    );
    assert_eq!(remote, "gpd_validation", "{e:?}");

    // Paid through pagoPA (the single payment).
    let nav = format!("3{}", position.payment_option[0].iuv);
    let (status, body) = gpd.pay(ORG, &nav, json!({"amount": 19_671})).await;
    assert_eq!(status, 200, "{body}");

    position.payment_option[0].description = "dopo il pagamento".into();
    let (upd, e) = code(
        c.update_position(ORG, &position.iupd, &position, false)
            .await,
    );
    assert_eq!(upd, "gpd_conflict", "{e:?}");
    let (del, e) = code(c.delete_position(ORG, &position.iupd).await);
    assert_eq!(del, "gpd_conflict", "{e:?}");
    let got = c.get_position(ORG, &position.iupd).await.unwrap();
    assert_eq!(got.status, Some(DebtPositionStatus::Paid));
    assert_eq!(
        got.payment_option[0].description.as_deref(),
        Some("TARI 2027 - unica soluzione (rettifica)")
    );

    // An unpaid position can be deleted; then it is gone.
    let other = tari_tefa(9).to_position().unwrap();
    c.create_position(ORG, &other, true).await.unwrap();
    c.delete_position(ORG, &other.iupd).await.unwrap();
    assert_absent(&c, &other.iupd).await;
    let (gone, _) = code(c.delete_position(ORG, &other.iupd).await);
    assert_eq!(gone, "gpd_not_found");
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_only_from_draft_and_valid_at_the_validity_date() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);

    // Created already published: publishing again is a 409.
    let valid = tari_tefa(10).to_position().unwrap();
    let created = c.create_position(ORG, &valid, true).await.unwrap();
    assert_eq!(created.status, Some(DebtPositionStatus::Valid));
    let (again, e) = code(c.publish_position(ORG, &valid.iupd).await);
    assert_eq!(again, "gpd_conflict", "{e:?}");

    // With a validity date: DRAFT → PUBLISHED, VALID once the date comes.
    gpd.set_clock("2027-01-10T08:00:00Z").await;
    let mut tax = tari_tefa(11);
    tax.validity_date = Some(ts("2027-02-01T00:00:00Z"));
    let position = tax.to_position().unwrap();
    c.create_position(ORG, &position, false).await.unwrap();
    let published = c.publish_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(published.status, Some(DebtPositionStatus::Published));
    assert_eq!(published.validity_date, Some(ts("2027-02-01T00:00:00Z")));
    let (twice, e) = code(c.publish_position(ORG, &tax.iupd).await);
    assert_eq!(twice, "gpd_conflict", "{e:?}");
    // Not yet payable.
    let nav = tax.single.codice.to_string();
    let (not_yet, e) = code(
        c.set_payment_option_as_already_paid(ORG, CodiceAvviso::parse(&nav).unwrap(), None)
            .await,
    );
    assert_eq!(not_yet, "gpd_not_payable", "{e:?}");

    gpd.set_clock("2027-02-01T00:00:01Z").await;
    let got = c.get_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(got.status, Some(DebtPositionStatus::Valid));

    // Unknown position.
    let (unknown, _) = code(c.publish_position(ORG, "NON-ESISTE").await);
    assert_eq!(unknown, "gpd_not_found");
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_only_when_published_or_valid() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);
    let tax = tari_tefa(12);
    let position = tax.to_position().unwrap();
    c.create_position(ORG, &position, false).await.unwrap();

    // A DRAFT cannot be invalidated.
    let (draft, e) = code(c.invalidate_position(ORG, &tax.iupd).await);
    assert_eq!(draft, "gpd_conflict", "{e:?}");

    c.publish_position(ORG, &tax.iupd).await.unwrap();
    let invalid = c.invalidate_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(invalid.status, Some(DebtPositionStatus::Invalid));
    let got = c.get_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(got.status, Some(DebtPositionStatus::Invalid));

    // Not payable any more, and not invalidated twice.
    let nav = tax.instalments[0].codice.to_string();
    let (status, _) = gpd.pay(ORG, &nav, json!({})).await;
    assert_eq!(status, 422);
    let (twice, e) = code(c.invalidate_position(ORG, &tax.iupd).await);
    assert_eq!(twice, "gpd_conflict", "{e:?}");
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_api_key_is_unauthorized_and_never_shown() {
    let gpd = GpdSimulator::start();
    let secret = "chiave-sbagliata-7f3a9c";
    let wrong = GpdClient::new(&gpd.base_url(), secret, Duration::from_secs(20)).unwrap();
    let position = tari_tefa(13).to_position().unwrap();

    let (create, e) = code(wrong.create_position(ORG, &position, true).await);
    assert_eq!(create, "gpd_unauthorized");
    assert_eq!(e, GpdError::Unauthorized);
    for shown in [
        e.to_string(),
        format!("{e:?}"),
        e.message_it(),
        format!("{wrong:?}"),
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let (get, _) = code(wrong.get_position(ORG, &position.iupd).await);
    assert_eq!(get, "gpd_unauthorized");
    let (list, _) = code(wrong.list_positions(ORG, &ListQuery::default()).await);
    assert_eq!(list, "gpd_unauthorized");

    // Nothing was created.
    assert_absent(&client(&gpd), &position.iupd).await;

    // For the user a refused key is the operator's problem: an internal
    // error with the generic message; the log line names GPD's 401, never
    // the key.
    let service: palazzo_services::ServiceError = e.into();
    assert_eq!(service.code(), "internal_error");
    assert!(service.message_it().contains("errore interno"));
    let logged = service.to_string();
    assert!(
        logged.contains("401") && !logged.contains(secret),
        "{logged}"
    );
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paid_option_after_a_payment_and_the_already_paid_operation() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);
    let tax = tari_tefa(14);
    c.create_position(ORG, &tax.to_position().unwrap(), true)
        .await
        .unwrap();
    let nav1 = tax.instalments[0].codice.to_string();
    let nav2 = tax.instalments[1].codice.to_string();
    let single = tax.single.codice.to_string();

    // Rata 1 paid through pagoPA.
    let (status, body) = gpd
        .pay(
            ORG,
            &nav1,
            json!({"amount": 9_836, "paymentDate": "2027-05-20T10:15:00Z",
                   "pspCompany": "Banca di Prova", "idReceipt": "R-0001"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let got = c.get_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(got.status, Some(DebtPositionStatus::PartiallyPaid));
    let paid = got
        .payment_option
        .iter()
        .find(|o| o.nav.as_deref() == Some(nav1.as_str()))
        .unwrap();
    assert_eq!(paid.status, Some(PaymentOptionStatus::Paid));
    assert_eq!(paid.payment_date, Some(ts("2027-05-20T10:15:00Z")));
    assert_eq!(paid.psp_company.as_deref(), Some("Banca di Prova"));
    assert_eq!(paid.id_receipt.as_deref(), Some("R-0001"));
    assert_eq!(paid.amount, Some(Cents::from_cents(9_836)));

    // Already paid: 409. The single payment after an instalment: 422.
    let (again, e) = code(
        c.set_payment_option_as_already_paid(ORG, CodiceAvviso::parse(&nav1).unwrap(), None)
            .await,
    );
    assert_eq!(again, "gpd_conflict", "{e:?}");
    let (whole, e) = code(
        c.set_payment_option_as_already_paid(ORG, CodiceAvviso::parse(&single).unwrap(), None)
            .await,
    );
    assert_eq!(whole, "gpd_not_payable", "{e:?}");
    let (unknown, e) = code(
        c.set_payment_option_as_already_paid(
            ORG,
            CodiceAvviso::aux3(1, 9_999_999_999_999).unwrap(),
            None,
        )
        .await,
    );
    assert_eq!(unknown, "gpd_not_found", "{e:?}");

    // Rata 2 paid at the counter, recorded through the client.
    let at = ts("2027-11-02T09:30:00Z");
    let marked = c
        .set_payment_option_as_already_paid(ORG, CodiceAvviso::parse(&nav2).unwrap(), Some(at))
        .await
        .unwrap();
    assert_eq!(marked.option.status, Some(PaymentOptionStatus::Paid));
    assert_eq!(marked.option.nav.as_deref(), Some(nav2.as_str()));
    assert_eq!(marked.option.payment_date, Some(at));
    assert_eq!(marked.option.amount, Some(Cents::from_cents(9_835)));
    let got = c.get_position(ORG, &tax.iupd).await.unwrap();
    assert_eq!(got.status, Some(DebtPositionStatus::Paid));
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_and_filters() {
    let gpd = GpdSimulator::start();
    let c = client(&gpd);
    let mut all = BTreeSet::new();
    for n in 20..25 {
        let p = tari_tefa(n).to_position().unwrap();
        // Two left in DRAFT, three published.
        c.create_position(ORG, &p, n >= 22).await.unwrap();
        all.insert(p.iupd);
    }

    let page = |page, limit| ListQuery {
        page: Some(page),
        limit: Some(limit),
        order_by: Some(OrderBy::Iupd),
        ascending: Some(true),
        ..ListQuery::default()
    };
    let mut seen = Vec::new();
    for p in 0..3 {
        let info = c.list_positions(ORG, &page(p, 2)).await.unwrap();
        assert_eq!(info.page_info.page, p);
        assert_eq!(info.page_info.limit, 2);
        assert_eq!(info.page_info.total_pages, 3);
        let expected = if p < 2 { 2 } else { 1 };
        assert_eq!(info.page_info.items_found, expected);
        assert_eq!(info.payment_position_list.len(), expected as usize);
        seen.extend(
            info.payment_position_list
                .into_iter()
                .map(|x| x.iupd.unwrap()),
        );
    }
    // Every position once, in IUPD order.
    assert_eq!(seen, all.iter().cloned().collect::<Vec<_>>());
    let past = c.list_positions(ORG, &page(3, 2)).await.unwrap();
    assert!(past.payment_position_list.is_empty());

    let drafts = c
        .list_positions(
            ORG,
            &ListQuery {
                status: Some(DebtPositionStatus::Draft),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    let drafts: BTreeSet<String> = drafts
        .payment_position_list
        .into_iter()
        .map(|x| x.iupd.unwrap())
        .collect();
    assert_eq!(drafts, all.iter().take(2).cloned().collect());

    // More than the contract's 50 per page: refused before sending.
    let (limit, _) = code(c.list_positions(ORG, &page(0, 51)).await);
    assert_eq!(limit, "gpd_config");
    gpd.assert_no_contract_violation();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpd_down_is_unavailable_quickly() {
    // A port where nobody listens.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}/gpd/debt-positions-service/v1");
    let refused = GpdClient::new(&base, "k", Duration::from_secs(2)).unwrap();
    let started = Instant::now();
    let (down, e) = code(refused.get_position(ORG, "X-1").await);
    assert_eq!(down, "gpd_unavailable", "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(e.message_it().contains("non è raggiungibile"));

    // A server that accepts the connection and never answers: the timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let base = format!("http://{addr}/gpd/debt-positions-service/v1");
    let hanging = GpdClient::new(&base, "k", Duration::from_secs(1)).unwrap();
    let started = Instant::now();
    let position = tari_tefa(30).to_position().unwrap();
    let (timeout, e) = code(hanging.create_position(ORG, &position, true).await);
    let took = started.elapsed();
    assert_eq!(timeout, "gpd_unavailable", "{e:?}");
    assert!(e.to_string().contains("timeout"), "{e}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );
    hold.abort();

    // The simulator stopped under a working client.
    let mut gpd = GpdSimulator::start();
    let c = client(&gpd);
    c.info().await.unwrap();
    gpd.assert_no_contract_violation();
    gpd.stop();
    let (stopped, e) = code(c.get_position(ORG, "X-1").await);
    assert_eq!(stopped, "gpd_unavailable", "{e:?}");
}
