// Package capitest is a simulated Meta Graph API for the Conversions API edge
// POST /{version}/{pixel_id}/events: a strict, independent judge of what the connector sends. It shares no code
// with the sender on purpose — a validator shared with the client would share its bugs.
//
// Use it in-process like net/http/httptest (NewTestServer), or serve Server as an http.Handler (the
// `capi-connector graph-simulator --listen ADDR` subcommand does).
//
// # What it accepts
//
// POST /{version}/{pixel_id}/events with
//   - Content-Type application/json: a JSON object whose data is the events array (or a string holding it);
//   - application/x-www-form-urlencoded or multipart/form-data: data is a form field holding the JSON array;
//   - access_token in the query, the body, or an "Authorization: Bearer|OAuth <token>" header;
//   - appsecret_proof (hex HMAC-SHA256 of the token keyed by the app secret) when Config.AppSecret is set.
//
// GET /{version}/{pixel_id}?fields=id,name reads the dataset (pixel) node without sending an event — how a sender
// checks its token and pixel (check-config --online). The token, appsecret_proof, TokenExpired and Throttle faults and
// the pixel are checked as for events; fields are among id, name, creation_time, is_unavailable (any other is
// 100 "Tried accessing nonexisting field"), and parameters other than fields, access_token and appsecret_proof are
// refused. It returns {"id":"<pixel>",…} and records nothing.
//
// Top-level parameters allowed: data, test_event_code, partner_agent, namespace_id, upload_id, upload_tag,
// upload_source, access_token, appsecret_proof. data holds 1..1000 events. Success is
// 200 {"events_received":N,"messages":[],"fbtrace_id":"…"}; only then are the events recorded.
//
// Each event: keys among event_name, event_time, event_id, event_source_url, referrer_url, action_source, opt_out,
// data_processing_options(_country,_state), user_data, custom_data, app_data, original_event_data,
// attribution_data, messaging_channel. event_name, event_time (integer seconds), action_source (email, website,
// app, phone_call, chat, physical_store, system_generated, business_messaging, other) and user_data are required.
// event_time must lie within 7 days in the past (62 for physical_store) and at most FutureTolerance ahead.
// website events need event_source_url and user_data.client_user_agent; app events need app_data with
// advertiser_tracking_enabled, application_tracking_enabled and extinfo. user_data: em, ph, fn, ln, ge, db, ct, st,
// zp, country (and doby/dobm/dobd) are 64-lowercase-hex SHA-256 strings or arrays of them; external_id a string or
// array of strings (hashed or not, as Meta allows); client_ip_address a valid IP; fbp fb.<0-2>.<13-digit ms>.<digits>;
// fbc fb.<0-2>.<13-digit ms>.<fbclid>; unknown user_data keys are refused. Customer information consisting only of
// keys from {ct, country, st, zp, ge, client_user_agent}, {db, client_user_agent}, {fn, ge} or {ln, ge} — or none —
// is insufficient (Meta's baseline). custom_data takes any key, but value is a number, currency 3 letters, contents
// objects with id and integer quantity, num_items an integer; Purchase needs value and currency. A key given twice in
// one object is refused. One invalid event refuses the whole request.
//
// # Errors
//
// Every error is the Graph envelope {"error":{"message","type","code","error_subcode","is_transient",
// "error_user_title","error_user_msg","fbtrace_id"}}, members omitted where Meta omits them.
// "Meta" marks codes Meta documents for this situation; "sim" marks the simulator's choice where Meta's documentation
// gives none — senders must classify by code family, never by these exact subcodes or texts.
//
//	HTTP code/subcode    is_transient  when
//	400  100/2804003     false         event_time too old (Meta)
//	400  100/2804004     false         event_time in the future (sim)
//	400  100/2804008     false         required event parameter missing, incl. Purchase value/currency,
//	                                   website event_source_url/client_user_agent, app app_data (sim)
//	400  100/2804016     false         a hashed user_data field is not a SHA-256 hex digest (sim)
//	400  100/2804019     false         invalid event parameter: type, format, unknown or repeated key; a poisoned
//	                                   event_id (sim)
//	400  100/2804050     false         insufficient customer information (Meta)
//	400  100                           request-level parameter error "(#100) …": data missing, empty, >1000 events,
//	                                   not an array, body not JSON, unknown/duplicate top-level parameter (Meta's form)
//	413  100                           body larger than Config.MaxBodyBytes (sim)
//	400  100/33                        unknown pixel, pixel not accessible with this token, or method other than
//	                                   POST: "Unsupported post request. Object with ID '…' does not exist…" (Meta)
//	400  100                           appsecret_proof missing or wrong, type GraphMethodException (Meta)
//	400  104                           no access token: "An access token is required to request this resource." (Meta)
//	400  190                           access token invalid (Meta)
//	400  190/463                       access token expired — TokenExpired fault (Meta)
//	404  803                           pixel ID not numeric (Meta)
//	400  2500                          unknown path, or a version newer than the newest accepted (Meta)
//	400  2635                          deprecated API version (Meta)
//	400  80004/2446079   true          throttled (ThrottleCode 80004, default), X-Business-Use-Case-Usage (Meta)
//	400  613             true          throttled (ThrottleCode 613) (Meta)
//	403  17/2446079      true          throttled (ThrottleCode 17) (Meta)
//	403  4               true          throttled (ThrottleCode 4), X-App-Usage header (Meta)
//	5xx  2 or 1          true          injected server error — FailNext, ErrorRate (Meta)
//
// error_user_msg of an event error ends with "(event at index i, $['data'][i])". This is a simulator convenience:
// Meta does not promise to name the offending event, so a sender isolates it by splitting the batch. No error
// message ever contains a user_data value.
//
// # Control endpoints
//
// On the same handler, plain JSON (not Graph-shaped):
//
//	GET      /_sim/faults     the Faults in force, e.g. {"latency":"0s","fail_next":2}
//	PUT|POST /_sim/faults     replace them: body is a Faults JSON object (unknown keys refused; latency is a Go
//	                          duration string like "250ms" or a number of milliseconds); answers the new Faults
//	GET      /_sim/events     accepted events, a JSON array of ReceivedEvent; ?pixel_id= filters
//	GET      /_sim/event_ids  {"<event_id>": times accepted}
//	GET      /_sim/stats      Stats
//	POST     /_sim/reset      forget events, event_id counts and stats (faults stay)
//
// Example: curl -X PUT localhost:8080/_sim/faults -d '{"throttle":true,"throttle_regain_minutes":2}'
package capitest
