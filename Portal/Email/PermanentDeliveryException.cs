namespace Portal.Email;

/// <summary>A delivery that no retry can make: the outbox marks its row failed at once instead of waiting to try again.</summary>
public sealed class PermanentDeliveryException(string message, Exception? inner = null) : Exception(message, inner);
