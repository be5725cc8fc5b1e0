"""``Item.folder_id`` becomes a foreign key to ``folders.Folder`` (same column, ``folder_id``).

Before the folders app existed no folder could exist, so any id left in the column names nothing:
those items go back to the root folder (the column is cleared) before the constraint is added.
"""

import django.db.models.deletion
from django.db import migrations, models


def clear_dangling_folder_ids(apps, schema_editor):
    Item = apps.get_model("items", "Item")
    Folder = apps.get_model("folders", "Folder")
    db = schema_editor.connection.alias
    known = Folder.objects.using(db).values("pk")
    Item.objects.using(db).filter(folder__isnull=False).exclude(folder__in=known).update(
        folder=None, folder_added_at=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("folders", "0001_initial"),
        ("items", "0003_neuroflash_roles"),
    ]

    operations = [
        # folder_id (a UUID column) → folder (same data, column "folder"), then → a foreign key whose
        # column is "folder_id" again.
        migrations.RenameField(model_name="item", old_name="folder_id", new_name="folder"),
        migrations.RunPython(clear_dangling_folder_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="item",
            name="folder",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="items",
                to="folders.folder",
            ),
        ),
    ]
