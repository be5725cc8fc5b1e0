from django.core.management.base import BaseCommand

from apps.text2image.services import jobs


class Command(BaseCommand):
    help = (
        "Settle stuck generation jobs (what the beat task does): runs whose worker died are queued again "
        "(or failed after GENERATION_JOB_MAX_ATTEMPTS), runs past their time limit fail, and jobs no worker "
        "took within GENERATION_QUEUED_TIMEOUT fail."
    )

    def handle(self, *args, **options):
        result = jobs.reap_jobs()
        counts = result.as_dict()
        self.stdout.write(
            f"{counts['requeued']} queued again, {counts['abandoned']} given up, "
            f"{counts['timed_out']} timed out, {counts['not_taken']} never taken."
        )
