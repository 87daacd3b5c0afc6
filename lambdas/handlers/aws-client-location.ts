/**
 * Region and endpoint for an AWS SDK client. With an emulator endpoint (tests, the local stack)
 * the region defaults to us-east-1 and dummy credentials are used: emulators ignore signatures, and
 * the SDK will not sign without keys. Without one, the SDK's own resolution applies.
 */
export function awsClientLocation(options: { endpoint?: string | undefined; region?: string | undefined }) {
  const { endpoint, region } = options;
  if (endpoint === undefined) return region === undefined ? {} : { region };
  return {
    endpoint,
    region: region ?? 'us-east-1',
    // A fresh object each time: the SDK tags the credentials object it is given.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}
