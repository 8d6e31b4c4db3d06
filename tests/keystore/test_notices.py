from keystore.db import Keystore


def test_notice_is_recorded_once(keystore: Keystore) -> None:
    with keystore.session() as session:
        notices = keystore.notices(session)
        assert not notices.was_sent("expiry", "<m1>:7")
        assert notices.record("expiry", "<m1>:7", message_id="<m1>", recipient_id=7) is True
        assert notices.record("expiry", "<m1>:7") is False
        assert notices.record("unread", "<m1>:7") is True
        assert notices.was_sent("expiry", "<m1>:7")
