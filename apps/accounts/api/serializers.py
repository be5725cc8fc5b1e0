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
