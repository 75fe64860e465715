"""Twilio's REST API, for the one thing the bot asks of it: replacing the TwiML a live call runs.

With no TTS engine configured, a reply reaches a Twilio caller in Twilio's own
Korean voice: the call is updated (``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json``
with ``Twiml=``) to say the reply and then stream the call to us again. Twilio
ends the open media stream (``stop``) and opens a new one, which carries the
call SID, so the dialog session goes on. The account SID arrives with the
stream's ``start`` message; the auth token is the one that checks signatures.
"""

from __future__ import annotations

import httpx

API_URL = "https://api.twilio.com"
TIMEOUT_S = 5.0


class TwilioRestError(RuntimeError):
    """Twilio refused or could not be reached; the message says which, with Twilio's own words."""


async def update_call(client: httpx.AsyncClient, account_sid: str, call_sid: str, auth_token: str,
                      twiml: str) -> dict:
    """Make the call run ``twiml`` now; Twilio's call resource (JSON) on success."""
    url = f"/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json"
    try:
        response = await client.post(url, data={"Twiml": twiml}, auth=(account_sid, auth_token), timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise TwilioRestError(f"cannot reach Twilio's REST API at {client.base_url}: {exc!r}") from exc
    if response.status_code >= 400:
        try:
            detail = response.json()
            reason = f"{detail.get('code')}: {detail.get('message')}"
        except ValueError:
            reason = response.text[:200]
        raise TwilioRestError(f"Twilio refused the call update ({response.status_code}, {reason})")
    return response.json()
