using System.Collections.Concurrent;

namespace Pisa.Training.Data;

/// <summary>
/// A sequence produced on a background thread, at most <c>capacity</c> items ahead of its reader, so preparing the next
/// batch overlaps the training step. The items and their order are the source's: only when they are made changes. A
/// failure in the source reaches the reader at the item where it happened, as the source threw it. Stopping early
/// (disposing the enumerator) stops the producer and disposes what it made and nobody read.
/// </summary>
public static class Prefetcher
{
    /// <summary><paramref name="source"/> as it is when <paramref name="capacity"/> is 0, else read ahead on a background thread.</summary>
    public static IEnumerable<T> Ahead<T>(IEnumerable<T> source, int capacity) where T : IDisposable =>
        capacity <= 0 ? source : ReadAhead(source, capacity);

    private static IEnumerable<T> ReadAhead<T>(IEnumerable<T> source, int capacity) where T : IDisposable
    {
        using var queue = new BlockingCollection<T>(capacity);
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        var producer = new Thread(() =>
        {
            try
            {
                foreach (var item in source)
                {
                    try { queue.Add(item, stop.Token); }
                    catch (OperationCanceledException) { item.Dispose(); return; }
                }
            }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        }) { IsBackground = true, Name = "pisa-prefetch" };
        producer.Start();
        try
        {
            foreach (var item in queue.GetConsumingEnumerable()) yield return item;
            producer.Join();
            if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        finally
        {
            stop.Cancel();
            producer.Join();
            while (queue.TryTake(out var unread)) unread.Dispose();
        }
    }
}
