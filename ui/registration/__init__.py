"""Anmeldung, Ummeldung and Abmeldung (§ 17 BMG): one dialog each, one screen with sections.

The rooms: `common` (small shared pieces), `address` (street type-ahead, address sections),
`person_entry` (one person of an Anmeldung), `dialog` (the frame all three share),
`anmeldung`, `moves` (Ummeldung, Abmeldung) and `actions` (F2-F4 in the main window).

Built from `ui.fields` and `ui.form_dialog` (see there for the keys: Tab in visual order,
Enter = next field and submit in the last one, Ctrl+Enter submits, Esc asks before typed data
is thrown away).
Every register access goes through the window's `DbWorker`; the core decides (the services in
`clerk_app.services.registration`), the dialogs show its answers next to the fields.

* The command id is minted when a dialog opens: Enter twice, a double click or a retry after
  an error never registers twice (the core returns the stored result for a known id).
* Before an Anmeldung is sent, `likely_duplicates` runs for each new person (in the same worker
  call as the submit, which only happens if there are none): hits are shown inside that
  person's section with "Vorhandene Person übernehmen" (the registration then names the
  existing person) and "Trotzdem neu anlegen" (sends `duplicate_checked`).
* A rejected form (`FormError`) keeps everything typed; each message stands next to its field
  and the cursor goes to the first one. Other failures are said in the banner.
* On success the dialog shows the Meldebestätigung's number and content and the core's notices
  (a late registration), emits `completed(ServiceResult)` and closes on Enter.
"""
