"""Staff roles as Django groups with permissions.

A later app adds its permissions here; ``sync_roles`` runs after every migrate, so groups always
hold exactly the permissions listed (the data migration 0002 creates them the first time).
"""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "support": [
        "accounts.view_user",
        "accounts.view_apisession",
        "accounts.view_organization",
        "accounts.view_membership",
        "core.view_domain",
        "billing.view_billingplan",
        "billing.view_billingplanprice",
        "billing.view_subscription",
        "billing.view_cardpayment",
        "billing.view_giftcard",
        "billing.view_giftcardbatch",
        "billing.view_billingevent",
    ],
    "moderator": [
        "accounts.view_user",
        "accounts.view_apisession",
        "accounts.moderate_user",
        "accounts.view_organization",
        "core.view_domain",
        "items.view_item",
        "items.approve_item",
        "items.view_approvaldecision",
        "items.view_pendingapprovalitem",
        "items.view_approveditem",
    ],
    "admin": [
        "core.view_fileobject",
        "core.add_fileobject",
        "core.delete_fileobject",
        "core.view_affiliatead",
        "core.add_affiliatead",
        "core.change_affiliatead",
        "core.delete_affiliatead",
        "core.view_sqlqueryaudit",
        "accounts.view_user",
        "accounts.change_user",
        "accounts.delete_user",
        "accounts.moderate_user",
        "accounts.view_userkeyvalue",
        "socialaccount.view_socialaccount",
        "accounts.view_apisession",
        "accounts.change_apisession",
        "accounts.view_accesstoken",
        "accounts.change_accesstoken",
        "accounts.view_organization",
        "accounts.add_organization",
        "accounts.change_organization",
        "accounts.delete_organization",
        "accounts.view_membership",
        "accounts.add_membership",
        "accounts.change_membership",
        "accounts.delete_membership",
        "core.view_domain",
        "core.change_domain",
        "core.view_domainhost",
        "core.add_domainhost",
        "core.change_domainhost",
        "core.delete_domainhost",
        "billing.view_billingplan",
        "billing.add_billingplan",
        "billing.change_billingplan",
        "billing.delete_billingplan",
        "billing.view_billingplanprice",
        "billing.add_billingplanprice",
        "billing.change_billingplanprice",
        "billing.delete_billingplanprice",
        "billing.view_billingplanpaymentprovider",
        "billing.add_billingplanpaymentprovider",
        "billing.change_billingplanpaymentprovider",
        "billing.delete_billingplanpaymentprovider",
        "billing.view_subscription",
        "billing.change_subscription",
        "billing.grant_tier",
        "billing.view_cardpayment",
        "billing.view_giftcard",
        "billing.add_giftcard",
        "billing.change_giftcard",
        "billing.view_giftcardbatch",
        "billing.view_billingevent",
        "billing.view_boostyadmincookies",
        "billing.add_boostyadmincookies",
        "billing.delete_boostyadmincookies",
        "items.view_item",
        "items.change_item",
        "items.delete_item",
        "items.approve_item",
        "items.protect_item",
        "items.restore_item",
        "items.migrate_library",
        "items.view_approvaldecision",
        "items.view_pendingapprovalitem",
        "items.change_pendingapprovalitem",
        "items.view_approveditem",
        "items.change_approveditem",
    ],
    # Neuroflash staff roles (the groups are created by apps/items/migrations/0003_neuroflash_roles.py).
    "NF_ADMIN": ["items.view_workspace_images", "items.delete_workspace_images"],
    "NF_CUSTOMER_SUPPORT": ["items.view_workspace_images", "items.delete_workspace_images"],
    "ADMIN_SERVICE": ["items.view_workspace_images", "items.delete_workspace_images"],
}


def sync_roles(sender=None, apps=None, using="default", **kwargs):
    """Make each role's group hold exactly its listed permissions (those that exist so far)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            found = Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename).first()
            if found:
                wanted.append(found)
        group.permissions.set(wanted)
