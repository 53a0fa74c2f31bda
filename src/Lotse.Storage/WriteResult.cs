namespace Lotse.Storage;

public enum WriteStatus
{
    /// <summary>The write was applied at <see cref="WriteResult.Revision"/>.</summary>
    Ok,

    /// <summary>Create found the key present; <see cref="WriteResult.Current"/> holds it.</summary>
    AlreadyExists,

    /// <summary>Update or delete found no such key.</summary>
    NotFound,

    /// <summary>
    /// Update or delete found the key at another mod revision than expected;
    /// <see cref="WriteResult.Current"/> holds the key as it is now.
    /// </summary>
    Conflict,
}

/// <summary>
/// The outcome of a conditional write. Conflicts are results, not exceptions: the API server
/// turns them into 409s or retries a read-modify-write loop, as kubernetes' GuaranteedUpdate does.
/// </summary>
/// <param name="Status">What happened.</param>
/// <param name="Revision">On success the revision of the write; otherwise the store's revision when the condition was checked.</param>
/// <param name="Current">On success the key as written (for delete: the value it had); on AlreadyExists/Conflict the present key.</param>
public readonly record struct WriteResult(WriteStatus Status, long Revision, KeyValue? Current)
{
    public bool Succeeded => Status == WriteStatus.Ok;
}
