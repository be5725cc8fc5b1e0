from django.db import migrations


def create_default_domain(apps, schema_editor):
    Domain = apps.get_model("core", "Domain")
    DomainHost = apps.get_model("core", "DomainHost")
    if Domain.objects.exists():
        return
    domain = Domain.objects.create(
        name="Atelier",
        code="default",
        environment="development",
        is_default=True,
        frontend_origins=["http://localhost:3000", "http://localhost:8000"],
    )
    for hostname in ("localhost", "127.0.0.1"):
        DomainHost.objects.create(domain=domain, hostname=hostname)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_default_domain, migrations.RunPython.noop)]
