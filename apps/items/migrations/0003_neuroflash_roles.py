"""The Neuroflash staff roles NF_ADMIN, NF_CUSTOMER_SUPPORT and ADMIN_SERVICE: groups holding the two
workspace-image permissions (read the images of any workspace, delete any of them)."""

from django.db import migrations

PERMISSIONS = {
    "view_workspace_images": "Can view the images of any Neuroflash workspace",
    "delete_workspace_images": "Can delete any Neuroflash workspace image",
}
ROLES = ("NF_ADMIN", "NF_CUSTOMER_SUPPORT", "ADMIN_SERVICE")


def create_roles(apps, schema_editor):
    db = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.using(db).get_or_create(app_label="items", model="item")
    permissions = [
        Permission.objects.using(db).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSIONS.items()
    ]
    for role in ROLES:
        group, _ = Group.objects.using(db).get_or_create(name=role)
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(db).filter(name__in=ROLES).delete()
    apps.get_model("auth", "Permission").objects.using(db).filter(
        content_type__app_label="items", codename__in=list(PERMISSIONS)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("items", "0002_approval_decisions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
