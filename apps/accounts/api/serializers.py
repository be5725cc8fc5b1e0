from rest_framework import serializers


class AccessTokenRequestSerializer(serializers.Serializer):
    """OAuth2 password-grant form (``application/x-www-form-urlencoded``)."""

    grant_type = serializers.RegexField(r"^password$", required=False, allow_blank=False)
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)
    scope = serializers.CharField(required=False, allow_blank=True, default="")
    client_id = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    client_secret = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class AccessTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()


# --- AIMG SelfUser (Annex: Common Types) ----------------------------------------------------------
def picture_data_uri(user) -> str:
    """The stored 128x128 WebP profile picture as a data URI ("" when there is none)."""
    import base64

    data = bytes(user.profile_picture) if user is not None and user.profile_picture else b""
    return f"data:image/webp;base64,{base64.b64encode(data).decode()}" if data else ""


def self_user(session, *, include_picture: bool = False, extended_price_info: bool = False) -> dict:
    """The SelfUser object of an API session, exactly as the annex lists it.

    A guest session has no user: its identity fields are empty strings and ``isAuthenticated`` is
    false. ``tierExpiration`` and ``profilePicture`` (only when asked for) are optional fields.
    """
    from apps.accounts.profile import item_counts, tier_info

    user = session.user if session.user_id else None
    tier = tier_info(user, extended_price_info=extended_price_info)
    counts = item_counts(user)
    data = {
        "sessionID": str(session.pk),
        "userID": str(user.pk) if user else "",
        "email": user.email if user else "",
        "username": user.username if user else "",
        "isAuthenticated": user is not None,
        "isAtLeast18Confirmed": bool(user.is_at_least_18_confirmed) if user else bool(session.is_at_least_18_confirmed),
        "tier": tier.tier,
        "merchantProcessor": tier.merchant_processor,
        "subscriptions": tier.subscriptions,
        "itemCount": counts.item_count,
        "rootFolderItemCount": counts.root_folder_item_count,
    }
    if tier.tier_expiration:
        data["tierExpiration"] = tier.tier_expiration
    if include_picture:
        data["profilePicture"] = picture_data_uri(user)
    return data
