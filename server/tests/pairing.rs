//! Whoever copies the database files must not be able to pair a dossier with its answers by
//! replaying the write-ahead log commit by commit: no commit holds both the claim of an
//! invitation (its row, with the dossier code) and a link answer (its response row, with the 16
//! bytes of its id).

mod common;

use common::spawn_app;
use serde_json::json;

/// The frames of a write-ahead log grouped by commit: the page images each commit wrote. Every
/// frame in the file counts, also those left from before the log was last restarted.
fn commits(wal: &[u8]) -> Vec<Vec<&[u8]>> {
    assert!(wal.len() >= 32, "a write-ahead log starts with a 32-byte header");
    let page_size = u32::from_be_bytes(wal[8..12].try_into().unwrap()) as usize;
    let mut commits = Vec::new();
    let mut pages = Vec::new();
    for frame in wal[32..].chunks_exact(24 + page_size) {
        pages.push(&frame[24..]);
        let size_after_commit = u32::from_be_bytes(frame[4..8].try_into().unwrap());
        if size_after_commit != 0 {
            commits.push(std::mem::take(&mut pages));
        }
    }
    commits
}

/// The names of the `needles` (name, bytes) found in `pages`.
fn holds(pages: &[&[u8]], needles: &[(String, Vec<u8>)]) -> Vec<String> {
    let found = |bytes: &[u8]| pages.iter().any(|p| p.windows(bytes.len()).any(|w| w == bytes));
    needles.iter().filter(|(_, bytes)| found(bytes)).map(|(name, _)| name.clone()).collect()
}

#[tokio::test]
async fn no_commit_of_the_write_ahead_log_holds_both_a_claim_and_its_answer() {
    let app = spawn_app().await;
    let (mut dossiers, mut ids) = (Vec::new(), Vec::new());
    for n in 0..7 {
        let dossier = format!("HS-PAIR-{n:04}");
        let link = common::issue(&app.state, &dossier, "KS", "D1").await;
        let id = uuid::Uuid::new_v4();
        let answer = json!({"id": id, "answers": {"A1": 1 + n % 5}, "comment": "Ý kiến qua đường liên kết"});
        app.state.submit_from_link(&link.invitation, &common::submission(answer.clone()), None).await.unwrap();
        dossiers.push((dossier.clone(), dossier.into_bytes()));
        ids.push((id.to_string(), id.as_bytes().to_vec()));
        // The fifth answer completes a mixed batch of five; the two after it wait.
        assert_eq!(app.stored().await, if n < 4 { 0 } else { 5 }, "after answer {}", n + 1);
    }
    // The end of the hour stores what waits, even fewer than five.
    assert_eq!(app.state.release_held_answers(None).await.unwrap(), 2);
    assert_eq!(app.stored().await, 7);

    let path = app.database_url.trim_start_matches("sqlite://");
    let wal = std::fs::read(format!("{path}-wal")).unwrap();
    let commits = commits(&wal);
    let claims: Vec<usize> = (0..commits.len()).filter(|&c| !holds(&commits[c], &dossiers).is_empty()).collect();
    let answers: Vec<usize> = (0..commits.len()).filter(|&c| !holds(&commits[c], &ids).is_empty()).collect();
    assert!(!claims.is_empty() && !answers.is_empty(), "the log holds the claims and the answers");
    for c in &answers {
        assert!(
            holds(&commits[*c], &dossiers).is_empty(),
            "commit {c} holds answers {:?} and the invitations of {:?}",
            holds(&commits[*c], &ids),
            holds(&commits[*c], &dossiers)
        );
    }
    // Nor is an answer readable before its batch: held answers are sealed.
    let comment = "Ý kiến qua đường liên kết".as_bytes();
    for c in &claims {
        assert!(!commits[*c].iter().any(|p| p.windows(comment.len()).any(|w| w == comment)), "commit {c}");
    }
}
