"""The scheduler: cron.yaml → APScheduler → claimed job runs in child processes.

cronfile.py   load_cron(): validated cron.yaml (CronFile, CronJob, fire times, run keys)
runner.py     Runner: claim a run in the database, execute it (child process, timeout),
              retry, record; catch-up at start; `eudigest run`
child.py      the child process of one run
service.py    serve(): APScheduler wiring, heartbeat, clean stop on SIGTERM

Kept light: the child process imports only pipeline.scheduler.child.
"""
