"""When deployments run: cron, interval and RRULE schedules, evaluated in the schedule's time zone."""
