import type { CountInterval } from '../../api/events';
import { formatDateTime } from '../../format/time';
import type { Bucket } from './eventFeed';

const WIDTH = 720;
const HEIGHT = 120;

/** Events per bucket as bars; each bar's title gives its time and count, and a summary reads it out. */
export function EventCountsChart({ buckets, interval }: { buckets: readonly Bucket[]; interval: CountInterval }) {
  if (buckets.length === 0) return <p className="muted">No events in this range.</p>;
  const max = Math.max(...buckets.map((bucket) => bucket.count), 1);
  const total = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  const barWidth = WIDTH / buckets.length;
  const first = buckets[0];
  const last = buckets.at(-1);
  const summary = `${total} event${total === 1 ? '' : 's'} per ${interval}, from ${formatDateTime(
    first ? new Date(first.start).toISOString() : null,
  )} to ${formatDateTime(last ? new Date(last.start).toISOString() : null)}; busiest ${interval}: ${max}.`;
  return (
    <figure className="event-chart">
      <svg
        className="event-chart__svg"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`Events per ${interval}`}
      >
        {buckets.map((bucket, index) => {
          const height = (bucket.count / max) * (HEIGHT - 4);
          return (
            <rect
              key={bucket.start}
              className="event-chart__bar"
              x={index * barWidth + barWidth * 0.1}
              y={HEIGHT - height}
              width={Math.max(barWidth * 0.8, 1)}
              height={height}
            >
              <title>{`${formatDateTime(new Date(bucket.start).toISOString())}: ${bucket.count}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption className="muted">{summary}</figcaption>
    </figure>
  );
}
