//! `ResponseCode`: every value of `m:ResponseCodeType` in Microsoft's `messages.xsd`, plus `Other`.
//!
//! GENERATED FILE, do not edit by hand: `tests/ews_response_code_generated.rs` writes it from the
//! `xs:enumeration/@value` list of `xs:simpleType name="ResponseCodeType"` in `messages.xsd`
//! (wsdl/, $EWS_SCHEMA_DIR or ../shared/ews-schema), in document order (521 values, `NoError`
//! included), and fails when this file differs from what it writes. Regenerate with
//! `UPDATE_GENERATED=1 cargo test --test ews_response_code_generated`.
//!
//! Invariant: parsing never fails; a code this list does not know becomes `ResponseCode::Other`.
//! What a code means (retry, not found, ...) lives in one place: `ResponseCode::kind` in `response.rs`.

use std::fmt;
use std::str::FromStr;

/// A `ResponseCode` value, spelled exactly as Microsoft spells it.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResponseCode {
    NoError,
    ErrorAccessDenied,
    ErrorAccessModeSpecified,
    ErrorAccountDisabled,
    ErrorAddDelegatesFailed,
    ErrorAddressSpaceNotFound,
    ErrorADOperation,
    ErrorADSessionFilter,
    ErrorADUnavailable,
    ErrorServiceUnavailable,
    ErrorAutoDiscoverFailed,
    ErrorAffectedTaskOccurrencesRequired,
    ErrorAttachmentNestLevelLimitExceeded,
    ErrorAttachmentSizeLimitExceeded,
    ErrorArchiveFolderPathCreation,
    ErrorArchiveMailboxNotEnabled,
    ErrorArchiveMailboxServiceDiscoveryFailed,
    ErrorAvailabilityConfigNotFound,
    ErrorBatchProcessingStopped,
    ErrorCalendarCannotMoveOrCopyOccurrence,
    ErrorCalendarCannotUpdateDeletedItem,
    ErrorCalendarCannotUseIdForOccurrenceId,
    ErrorCalendarCannotUseIdForRecurringMasterId,
    ErrorCalendarDurationIsTooLong,
    ErrorCalendarEndDateIsEarlierThanStartDate,
    ErrorCalendarFolderIsInvalidForCalendarView,
    ErrorCalendarInvalidAttributeValue,
    ErrorCalendarInvalidDayForTimeChangePattern,
    ErrorCalendarInvalidDayForWeeklyRecurrence,
    ErrorCalendarInvalidPropertyState,
    ErrorCalendarInvalidPropertyValue,
    ErrorCalendarInvalidRecurrence,
    ErrorCalendarInvalidTimeZone,
    ErrorCalendarIsCancelledForAccept,
    ErrorCalendarIsCancelledForDecline,
    ErrorCalendarIsCancelledForRemove,
    ErrorCalendarIsCancelledForTentative,
    ErrorCalendarIsDelegatedForAccept,
    ErrorCalendarIsDelegatedForDecline,
    ErrorCalendarIsDelegatedForRemove,
    ErrorCalendarIsDelegatedForTentative,
    ErrorCalendarIsNotOrganizer,
    ErrorCalendarIsOrganizerForAccept,
    ErrorCalendarIsOrganizerForDecline,
    ErrorCalendarIsOrganizerForRemove,
    ErrorCalendarIsOrganizerForTentative,
    ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange,
    ErrorCalendarOccurrenceIsDeletedFromRecurrence,
    ErrorCalendarOutOfRange,
    ErrorCalendarMeetingRequestIsOutOfDate,
    ErrorCalendarViewRangeTooBig,
    ErrorCallerIsInvalidADAccount,
    ErrorCannotAccessDeletedPublicFolder,
    ErrorCannotArchiveCalendarContactTaskFolderException,
    ErrorCannotArchiveItemsInPublicFolders,
    ErrorCannotArchiveItemsInArchiveMailbox,
    ErrorCannotCreateCalendarItemInNonCalendarFolder,
    ErrorCannotCreateContactInNonContactFolder,
    ErrorCannotCreatePostItemInNonMailFolder,
    ErrorCannotCreateTaskInNonTaskFolder,
    ErrorCannotDeleteObject,
    ErrorCannotDisableMandatoryExtension,
    ErrorCannotFindUser,
    ErrorCannotGetSourceFolderPath,
    ErrorCannotGetExternalEcpUrl,
    ErrorCannotOpenFileAttachment,
    ErrorCannotDeleteTaskOccurrence,
    ErrorCannotEmptyFolder,
    ErrorCannotSetCalendarPermissionOnNonCalendarFolder,
    ErrorCannotSetNonCalendarPermissionOnCalendarFolder,
    ErrorCannotSetPermissionUnknownEntries,
    ErrorCannotSpecifySearchFolderAsSourceFolder,
    ErrorCannotUseFolderIdForItemId,
    ErrorCannotUseItemIdForFolderId,
    ErrorChangeKeyRequired,
    ErrorChangeKeyRequiredForWriteOperations,
    ErrorClientDisconnected,
    ErrorClientIntentInvalidStateDefinition,
    ErrorClientIntentNotFound,
    ErrorConnectionFailed,
    ErrorContainsFilterWrongType,
    ErrorContentConversionFailed,
    ErrorContentIndexingNotEnabled,
    ErrorCorruptData,
    ErrorCreateItemAccessDenied,
    ErrorCreateManagedFolderPartialCompletion,
    ErrorCreateSubfolderAccessDenied,
    ErrorCrossMailboxMoveCopy,
    ErrorCrossSiteRequest,
    ErrorDataSizeLimitExceeded,
    ErrorDataSourceOperation,
    ErrorDelegateAlreadyExists,
    ErrorDelegateCannotAddOwner,
    ErrorDelegateMissingConfiguration,
    ErrorDelegateNoUser,
    ErrorDelegateValidationFailed,
    ErrorDeleteDistinguishedFolder,
    ErrorDeleteItemsFailed,
    ErrorDeleteUnifiedMessagingPromptFailed,
    ErrorDistinguishedUserNotSupported,
    ErrorDistributionListMemberNotExist,
    ErrorDuplicateInputFolderNames,
    ErrorDuplicateUserIdsSpecified,
    ErrorEmailAddressMismatch,
    ErrorEventNotFound,
    ErrorExceededConnectionCount,
    ErrorExceededSubscriptionCount,
    ErrorExceededFindCountLimit,
    ErrorExpiredSubscription,
    ErrorExtensionNotFound,
    ErrorExtensionsNotAuthorized,
    ErrorFolderCorrupt,
    ErrorFolderNotFound,
    ErrorFolderPropertRequestFailed,
    ErrorFolderSave,
    ErrorFolderSaveFailed,
    ErrorFolderSavePropertyError,
    ErrorFolderExists,
    ErrorFreeBusyGenerationFailed,
    ErrorGetServerSecurityDescriptorFailed,
    ErrorImContactLimitReached,
    ErrorImGroupDisplayNameAlreadyExists,
    ErrorImGroupLimitReached,
    ErrorImpersonateUserDenied,
    ErrorImpersonationDenied,
    ErrorImpersonationFailed,
    ErrorIncorrectSchemaVersion,
    ErrorIncorrectUpdatePropertyCount,
    ErrorIndividualMailboxLimitReached,
    ErrorInsufficientResources,
    ErrorInternalServerError,
    ErrorInternalServerTransientError,
    ErrorInvalidAccessLevel,
    ErrorInvalidArgument,
    ErrorInvalidAttachmentId,
    ErrorInvalidAttachmentSubfilter,
    ErrorInvalidAttachmentSubfilterTextFilter,
    ErrorInvalidAuthorizationContext,
    ErrorInvalidChangeKey,
    ErrorInvalidClientSecurityContext,
    ErrorInvalidCompleteDate,
    ErrorInvalidContactEmailAddress,
    ErrorInvalidContactEmailIndex,
    ErrorInvalidCrossForestCredentials,
    ErrorInvalidDelegatePermission,
    ErrorInvalidDelegateUserId,
    ErrorInvalidExcludesRestriction,
    ErrorInvalidExpressionTypeForSubFilter,
    ErrorInvalidExtendedProperty,
    ErrorInvalidExtendedPropertyValue,
    ErrorInvalidFolderId,
    ErrorInvalidFolderTypeForOperation,
    ErrorInvalidFractionalPagingParameters,
    ErrorInvalidFreeBusyViewType,
    ErrorInvalidId,
    ErrorInvalidIdEmpty,
    ErrorInvalidIdMalformed,
    ErrorInvalidIdMalformedEwsLegacyIdFormat,
    ErrorInvalidIdMonikerTooLong,
    ErrorInvalidIdNotAnItemAttachmentId,
    ErrorInvalidIdReturnedByResolveNames,
    ErrorInvalidIdStoreObjectIdTooLong,
    ErrorInvalidIdTooManyAttachmentLevels,
    ErrorInvalidIdXml,
    ErrorInvalidImContactId,
    ErrorInvalidImDistributionGroupSmtpAddress,
    ErrorInvalidImGroupId,
    ErrorInvalidIndexedPagingParameters,
    ErrorInvalidInternetHeaderChildNodes,
    ErrorInvalidItemForOperationArchiveItem,
    ErrorInvalidItemForOperationCreateItemAttachment,
    ErrorInvalidItemForOperationCreateItem,
    ErrorInvalidItemForOperationAcceptItem,
    ErrorInvalidItemForOperationDeclineItem,
    ErrorInvalidItemForOperationCancelItem,
    ErrorInvalidItemForOperationExpandDL,
    ErrorInvalidItemForOperationRemoveItem,
    ErrorInvalidItemForOperationSendItem,
    ErrorInvalidItemForOperationTentative,
    ErrorInvalidLogonType,
    ErrorInvalidLikeRequest,
    ErrorInvalidMailbox,
    ErrorInvalidManagedFolderProperty,
    ErrorInvalidManagedFolderQuota,
    ErrorInvalidManagedFolderSize,
    ErrorInvalidMergedFreeBusyInterval,
    ErrorInvalidNameForNameResolution,
    ErrorInvalidOperation,
    ErrorInvalidNetworkServiceContext,
    ErrorInvalidOofParameter,
    ErrorInvalidPagingMaxRows,
    ErrorInvalidParentFolder,
    ErrorInvalidPercentCompleteValue,
    ErrorInvalidPermissionSettings,
    ErrorInvalidPhoneCallId,
    ErrorInvalidPhoneNumber,
    ErrorInvalidUserInfo,
    ErrorInvalidPropertyAppend,
    ErrorInvalidPropertyDelete,
    ErrorInvalidPropertyForExists,
    ErrorInvalidPropertyForOperation,
    ErrorInvalidPropertyRequest,
    ErrorInvalidPropertySet,
    ErrorInvalidPropertyUpdateSentMessage,
    ErrorInvalidProxySecurityContext,
    ErrorInvalidPullSubscriptionId,
    ErrorInvalidPushSubscriptionUrl,
    ErrorInvalidRecipients,
    ErrorInvalidRecipientSubfilter,
    ErrorInvalidRecipientSubfilterComparison,
    ErrorInvalidRecipientSubfilterOrder,
    ErrorInvalidRecipientSubfilterTextFilter,
    ErrorInvalidReferenceItem,
    ErrorInvalidRequest,
    ErrorInvalidRestriction,
    ErrorInvalidRetentionTagTypeMismatch,
    ErrorInvalidRetentionTagInvisible,
    ErrorInvalidRetentionTagInheritance,
    ErrorInvalidRetentionTagIdGuid,
    ErrorInvalidRoutingType,
    ErrorInvalidScheduledOofDuration,
    ErrorInvalidSchemaVersionForMailboxVersion,
    ErrorInvalidSecurityDescriptor,
    ErrorInvalidSendItemSaveSettings,
    ErrorInvalidSerializedAccessToken,
    ErrorInvalidServerVersion,
    ErrorInvalidSid,
    ErrorInvalidSIPUri,
    ErrorInvalidSmtpAddress,
    ErrorInvalidSubfilterType,
    ErrorInvalidSubfilterTypeNotAttendeeType,
    ErrorInvalidSubfilterTypeNotRecipientType,
    ErrorInvalidSubscription,
    ErrorInvalidSubscriptionRequest,
    ErrorInvalidSyncStateData,
    ErrorInvalidTimeInterval,
    ErrorInvalidUserOofSettings,
    ErrorInvalidUserPrincipalName,
    ErrorInvalidUserSid,
    ErrorInvalidUserSidMissingUPN,
    ErrorInvalidValueForProperty,
    ErrorInvalidWatermark,
    ErrorIPGatewayNotFound,
    ErrorIrresolvableConflict,
    ErrorItemCorrupt,
    ErrorItemNotFound,
    ErrorItemPropertyRequestFailed,
    ErrorItemSave,
    ErrorItemSavePropertyError,
    ErrorLegacyMailboxFreeBusyViewTypeNotMerged,
    ErrorLocalServerObjectNotFound,
    ErrorLogonAsNetworkServiceFailed,
    ErrorMailboxConfiguration,
    ErrorMailboxDataArrayEmpty,
    ErrorMailboxDataArrayTooBig,
    ErrorMailboxHoldNotFound,
    ErrorMailboxLogonFailed,
    ErrorMailboxMoveInProgress,
    ErrorMailboxStoreUnavailable,
    ErrorMailRecipientNotFound,
    ErrorMailTipsDisabled,
    ErrorManagedFolderAlreadyExists,
    ErrorManagedFolderNotFound,
    ErrorManagedFoldersRootFailure,
    ErrorMeetingSuggestionGenerationFailed,
    ErrorMessageDispositionRequired,
    ErrorMessageSizeExceeded,
    ErrorMimeContentConversionFailed,
    ErrorMimeContentInvalid,
    ErrorMimeContentInvalidBase64String,
    ErrorMissingArgument,
    ErrorMissingEmailAddress,
    ErrorMissingEmailAddressForManagedFolder,
    ErrorMissingInformationEmailAddress,
    ErrorMissingInformationReferenceItemId,
    ErrorMissingItemForCreateItemAttachment,
    ErrorMissingManagedFolderId,
    ErrorMissingRecipients,
    ErrorMissingUserIdInformation,
    ErrorMoreThanOneAccessModeSpecified,
    ErrorMoveCopyFailed,
    ErrorMoveDistinguishedFolder,
    ErrorMultiLegacyMailboxAccess,
    ErrorNameResolutionMultipleResults,
    ErrorNameResolutionNoMailbox,
    ErrorNameResolutionNoResults,
    ErrorNoApplicableProxyCASServersAvailable,
    ErrorNoCalendar,
    ErrorNoDestinationCASDueToKerberosRequirements,
    ErrorNoDestinationCASDueToSSLRequirements,
    ErrorNoDestinationCASDueToVersionMismatch,
    ErrorNoFolderClassOverride,
    ErrorNoFreeBusyAccess,
    ErrorNonExistentMailbox,
    ErrorNonPrimarySmtpAddress,
    ErrorNoPropertyTagForCustomProperties,
    ErrorNoPublicFolderReplicaAvailable,
    ErrorNoPublicFolderServerAvailable,
    ErrorNoRespondingCASInDestinationSite,
    ErrorNotDelegate,
    ErrorNotEnoughMemory,
    ErrorObjectTypeChanged,
    ErrorOccurrenceCrossingBoundary,
    ErrorOccurrenceTimeSpanTooBig,
    ErrorOperationNotAllowedWithPublicFolderRoot,
    ErrorParentFolderIdRequired,
    ErrorParentFolderNotFound,
    ErrorPasswordChangeRequired,
    ErrorPasswordExpired,
    ErrorPhoneNumberNotDialable,
    ErrorPropertyUpdate,
    ErrorPromptPublishingOperationFailed,
    ErrorPropertyValidationFailure,
    ErrorProxiedSubscriptionCallFailure,
    ErrorProxyCallFailed,
    ErrorProxyGroupSidLimitExceeded,
    ErrorProxyRequestNotAllowed,
    ErrorProxyRequestProcessingFailed,
    ErrorProxyServiceDiscoveryFailed,
    ErrorProxyTokenExpired,
    ErrorPublicFolderMailboxDiscoveryFailed,
    ErrorPublicFolderOperationFailed,
    ErrorPublicFolderRequestProcessingFailed,
    ErrorPublicFolderServerNotFound,
    ErrorPublicFolderSyncException,
    ErrorQueryFilterTooLong,
    ErrorQuotaExceeded,
    ErrorReadEventsFailed,
    ErrorReadReceiptNotPending,
    ErrorRecurrenceEndDateTooBig,
    ErrorRecurrenceHasNoOccurrence,
    ErrorRemoveDelegatesFailed,
    ErrorRequestAborted,
    ErrorRequestStreamTooBig,
    ErrorRequiredPropertyMissing,
    ErrorResolveNamesInvalidFolderType,
    ErrorResolveNamesOnlyOneContactsFolderAllowed,
    ErrorResponseSchemaValidation,
    ErrorRestrictionTooLong,
    ErrorRestrictionTooComplex,
    ErrorResultSetTooBig,
    ErrorInvalidExchangeImpersonationHeaderData,
    ErrorSavedItemFolderNotFound,
    ErrorSchemaValidation,
    ErrorSearchFolderNotInitialized,
    ErrorSendAsDenied,
    ErrorSendMeetingCancellationsRequired,
    ErrorSendMeetingInvitationsOrCancellationsRequired,
    ErrorSendMeetingInvitationsRequired,
    ErrorSentMeetingRequestUpdate,
    ErrorSentTaskRequestUpdate,
    ErrorServerBusy,
    ErrorServiceDiscoveryFailed,
    ErrorStaleObject,
    ErrorSubmissionQuotaExceeded,
    ErrorSubscriptionAccessDenied,
    ErrorSubscriptionDelegateAccessNotSupported,
    ErrorSubscriptionNotFound,
    ErrorSubscriptionUnsubscribed,
    ErrorSyncFolderNotFound,
    ErrorTeamMailboxNotFound,
    ErrorTeamMailboxNotLinkedToSharePoint,
    ErrorTeamMailboxUrlValidationFailed,
    ErrorTeamMailboxNotAuthorizedOwner,
    ErrorTeamMailboxActiveToPendingDelete,
    ErrorTeamMailboxFailedSendingNotifications,
    ErrorTeamMailboxErrorUnknown,
    ErrorTimeIntervalTooBig,
    ErrorTimeoutExpired,
    ErrorTimeZone,
    ErrorToFolderNotFound,
    ErrorTokenSerializationDenied,
    ErrorTooManyObjectsOpened,
    ErrorUpdatePropertyMismatch,
    ErrorUnifiedGroupMailboxAADCreationFailed,
    ErrorUnifiedGroupMailboxAADDeleteFailed,
    ErrorUnifiedGroupMailboxNamingPolicy,
    ErrorUnifiedGroupMailboxDeleteFailed,
    ErrorUnifiedGroupMailboxNotFound,
    ErrorUnifiedGroupMailboxUpdateDelayed,
    ErrorUnifiedGroupMailboxUpdatedPartialProperties,
    ErrorUnifiedGroupMailboxUpdateFailed,
    ErrorUnifiedGroupMailboxProvisionFailed,
    ErrorUnifiedMessagingDialPlanNotFound,
    ErrorUnifiedMessagingReportDataNotFound,
    ErrorUnifiedMessagingPromptNotFound,
    ErrorUnifiedMessagingRequestFailed,
    ErrorUnifiedMessagingServerNotFound,
    ErrorUnableToGetUserOofSettings,
    ErrorUnableToRemoveImContactFromGroup,
    ErrorUnsupportedSubFilter,
    ErrorUnsupportedCulture,
    ErrorUnsupportedMapiPropertyType,
    ErrorUnsupportedMimeConversion,
    ErrorUnsupportedPathForQuery,
    ErrorUnsupportedPathForSortGroup,
    ErrorUnsupportedPropertyDefinition,
    ErrorUnsupportedQueryFilter,
    ErrorUnsupportedRecurrence,
    ErrorUnsupportedTypeForConversion,
    ErrorUpdateDelegatesFailed,
    ErrorUserNotUnifiedMessagingEnabled,
    ErrorVoiceMailNotImplemented,
    ErrorValueOutOfRange,
    ErrorVirusDetected,
    ErrorVirusMessageDeleted,
    ErrorWebRequestInInvalidState,
    ErrorWin32InteropError,
    ErrorWorkingHoursSaveFailed,
    ErrorWorkingHoursXmlMalformed,
    ErrorWrongServerVersion,
    ErrorWrongServerVersionDelegate,
    ErrorMissingInformationSharingFolderId,
    ErrorDuplicateSOAPHeader,
    ErrorSharingSynchronizationFailed,
    ErrorSharingNoExternalEwsAvailable,
    ErrorFreeBusyDLLimitReached,
    ErrorInvalidGetSharingFolderRequest,
    ErrorNotAllowedExternalSharingByPolicy,
    ErrorUserNotAllowedByPolicy,
    ErrorPermissionNotAllowedByPolicy,
    ErrorOrganizationNotFederated,
    ErrorMailboxFailover,
    ErrorInvalidExternalSharingInitiator,
    ErrorMessageTrackingPermanentError,
    ErrorMessageTrackingTransientError,
    ErrorMessageTrackingNoSuchDomain,
    ErrorUserWithoutFederatedProxyAddress,
    ErrorInvalidOrganizationRelationshipForFreeBusy,
    ErrorInvalidFederatedOrganizationId,
    ErrorInvalidExternalSharingSubscriber,
    ErrorInvalidSharingData,
    ErrorInvalidSharingMessage,
    ErrorNotSupportedSharingMessage,
    ErrorApplyConversationActionFailed,
    ErrorInboxRulesValidationError,
    ErrorOutlookRuleBlobExists,
    ErrorRulesOverQuota,
    ErrorNewEventStreamConnectionOpened,
    ErrorMissedNotificationEvents,
    ErrorDuplicateLegacyDistinguishedName,
    ErrorInvalidClientAccessTokenRequest,
    ErrorUnauthorizedClientAccessTokenRequest,
    ErrorNoSpeechDetected,
    ErrorUMServerUnavailable,
    ErrorRecipientNotFound,
    ErrorRecognizerNotInstalled,
    ErrorSpeechGrammarError,
    ErrorInvalidManagementRoleHeader,
    ErrorLocationServicesDisabled,
    ErrorLocationServicesRequestTimedOut,
    ErrorLocationServicesRequestFailed,
    ErrorLocationServicesInvalidRequest,
    ErrorWeatherServiceDisabled,
    ErrorMailboxScopeNotAllowedWithoutQueryString,
    ErrorArchiveMailboxSearchFailed,
    ErrorGetRemoteArchiveFolderFailed,
    ErrorFindRemoteArchiveFolderFailed,
    ErrorGetRemoteArchiveItemFailed,
    ErrorExportRemoteArchiveItemsFailed,
    ErrorInvalidPhotoSize,
    ErrorSearchQueryHasTooManyKeywords,
    ErrorSearchTooManyMailboxes,
    ErrorInvalidRetentionTagNone,
    ErrorDiscoverySearchesDisabled,
    ErrorCalendarSeekToConditionNotSupported,
    ErrorCalendarIsGroupMailboxForAccept,
    ErrorCalendarIsGroupMailboxForDecline,
    ErrorCalendarIsGroupMailboxForTentative,
    ErrorCalendarIsGroupMailboxForSuppressReadReceipt,
    ErrorOrganizationAccessBlocked,
    ErrorInvalidLicense,
    ErrorMessagePerFolderCountReceiveQuotaExceeded,
    ErrorInvalidBulkActionType,
    ErrorInvalidKeepNCount,
    ErrorInvalidKeepNType,
    ErrorNoOAuthServerAvailableForRequest,
    ErrorInstantSearchSessionExpired,
    ErrorInstantSearchTimeout,
    ErrorInstantSearchFailed,
    ErrorUnsupportedUserForExecuteSearch,
    ErrorDuplicateExtendedKeywordDefinition,
    ErrorMissingExchangePrincipal,
    ErrorUnexpectedUnifiedGroupsCount,
    ErrorParsingXMLResponse,
    ErrorInvalidFederationOrganizationIdentifier,
    ErrorInvalidSweepRule,
    ErrorInvalidSweepRuleOperationType,
    ErrorTargetDomainNotSupported,
    ErrorInvalidInternetWebProxyOnLocalServer,
    ErrorNoSenderRestrictionsSettingsFoundInRequest,
    ErrorDuplicateSenderRestrictionsInputFound,
    ErrorSenderRestrictionsUpdateFailed,
    ErrorMessageSubmissionBlocked,
    ErrorExceededMessageLimit,
    ErrorExceededMaxRecipientLimitBlock,
    ErrorAccountSuspend,
    ErrorExceededMaxRecipientLimit,
    ErrorMessageBlocked,
    ErrorAccountSuspendShowTierUpgrade,
    ErrorExceededMessageLimitShowTierUpgrade,
    ErrorExceededMaxRecipientLimitShowTierUpgrade,
    ErrorInvalidLongitude,
    ErrorInvalidLatitude,
    ErrorProxySoapException,
    ErrorUnifiedGroupAlreadyExists,
    ErrorUnifiedGroupAadAuthorizationRequestDenied,
    ErrorUnifiedGroupCreationDisabled,
    ErrorMarketPlaceExtensionAlreadyInstalledForOrg,
    ErrorExtensionAlreadyInstalledForOrg,
    ErrorNewerExtensionAlreadyInstalled,
    ErrorNewerMarketPlaceExtensionAlreadyInstalled,
    ErrorInvalidExtensionId,
    ErrorCannotUninstallProvidedExtensions,
    ErrorNoRbacPermissionToInstallMarketPlaceExtensions,
    ErrorNoRbacPermissionToInstallReadWriteMailboxExtensions,
    ErrorInvalidReportMessageActionType,
    ErrorCannotDownloadExtensionManifest,
    ErrorCalendarForwardActionNotAllowed,
    ErrorUnifiedGroupAliasNamingPolicy,
    ErrorSubscriptionsDisabledForGroup,
    /// A code that is not in the schema this list was generated from (a newer server).
    Other(String),
}

/// Every code of the schema, in schema order (without `Other`).
pub const ALL: &[ResponseCode] = &[
    ResponseCode::NoError,
    ResponseCode::ErrorAccessDenied,
    ResponseCode::ErrorAccessModeSpecified,
    ResponseCode::ErrorAccountDisabled,
    ResponseCode::ErrorAddDelegatesFailed,
    ResponseCode::ErrorAddressSpaceNotFound,
    ResponseCode::ErrorADOperation,
    ResponseCode::ErrorADSessionFilter,
    ResponseCode::ErrorADUnavailable,
    ResponseCode::ErrorServiceUnavailable,
    ResponseCode::ErrorAutoDiscoverFailed,
    ResponseCode::ErrorAffectedTaskOccurrencesRequired,
    ResponseCode::ErrorAttachmentNestLevelLimitExceeded,
    ResponseCode::ErrorAttachmentSizeLimitExceeded,
    ResponseCode::ErrorArchiveFolderPathCreation,
    ResponseCode::ErrorArchiveMailboxNotEnabled,
    ResponseCode::ErrorArchiveMailboxServiceDiscoveryFailed,
    ResponseCode::ErrorAvailabilityConfigNotFound,
    ResponseCode::ErrorBatchProcessingStopped,
    ResponseCode::ErrorCalendarCannotMoveOrCopyOccurrence,
    ResponseCode::ErrorCalendarCannotUpdateDeletedItem,
    ResponseCode::ErrorCalendarCannotUseIdForOccurrenceId,
    ResponseCode::ErrorCalendarCannotUseIdForRecurringMasterId,
    ResponseCode::ErrorCalendarDurationIsTooLong,
    ResponseCode::ErrorCalendarEndDateIsEarlierThanStartDate,
    ResponseCode::ErrorCalendarFolderIsInvalidForCalendarView,
    ResponseCode::ErrorCalendarInvalidAttributeValue,
    ResponseCode::ErrorCalendarInvalidDayForTimeChangePattern,
    ResponseCode::ErrorCalendarInvalidDayForWeeklyRecurrence,
    ResponseCode::ErrorCalendarInvalidPropertyState,
    ResponseCode::ErrorCalendarInvalidPropertyValue,
    ResponseCode::ErrorCalendarInvalidRecurrence,
    ResponseCode::ErrorCalendarInvalidTimeZone,
    ResponseCode::ErrorCalendarIsCancelledForAccept,
    ResponseCode::ErrorCalendarIsCancelledForDecline,
    ResponseCode::ErrorCalendarIsCancelledForRemove,
    ResponseCode::ErrorCalendarIsCancelledForTentative,
    ResponseCode::ErrorCalendarIsDelegatedForAccept,
    ResponseCode::ErrorCalendarIsDelegatedForDecline,
    ResponseCode::ErrorCalendarIsDelegatedForRemove,
    ResponseCode::ErrorCalendarIsDelegatedForTentative,
    ResponseCode::ErrorCalendarIsNotOrganizer,
    ResponseCode::ErrorCalendarIsOrganizerForAccept,
    ResponseCode::ErrorCalendarIsOrganizerForDecline,
    ResponseCode::ErrorCalendarIsOrganizerForRemove,
    ResponseCode::ErrorCalendarIsOrganizerForTentative,
    ResponseCode::ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange,
    ResponseCode::ErrorCalendarOccurrenceIsDeletedFromRecurrence,
    ResponseCode::ErrorCalendarOutOfRange,
    ResponseCode::ErrorCalendarMeetingRequestIsOutOfDate,
    ResponseCode::ErrorCalendarViewRangeTooBig,
    ResponseCode::ErrorCallerIsInvalidADAccount,
    ResponseCode::ErrorCannotAccessDeletedPublicFolder,
    ResponseCode::ErrorCannotArchiveCalendarContactTaskFolderException,
    ResponseCode::ErrorCannotArchiveItemsInPublicFolders,
    ResponseCode::ErrorCannotArchiveItemsInArchiveMailbox,
    ResponseCode::ErrorCannotCreateCalendarItemInNonCalendarFolder,
    ResponseCode::ErrorCannotCreateContactInNonContactFolder,
    ResponseCode::ErrorCannotCreatePostItemInNonMailFolder,
    ResponseCode::ErrorCannotCreateTaskInNonTaskFolder,
    ResponseCode::ErrorCannotDeleteObject,
    ResponseCode::ErrorCannotDisableMandatoryExtension,
    ResponseCode::ErrorCannotFindUser,
    ResponseCode::ErrorCannotGetSourceFolderPath,
    ResponseCode::ErrorCannotGetExternalEcpUrl,
    ResponseCode::ErrorCannotOpenFileAttachment,
    ResponseCode::ErrorCannotDeleteTaskOccurrence,
    ResponseCode::ErrorCannotEmptyFolder,
    ResponseCode::ErrorCannotSetCalendarPermissionOnNonCalendarFolder,
    ResponseCode::ErrorCannotSetNonCalendarPermissionOnCalendarFolder,
    ResponseCode::ErrorCannotSetPermissionUnknownEntries,
    ResponseCode::ErrorCannotSpecifySearchFolderAsSourceFolder,
    ResponseCode::ErrorCannotUseFolderIdForItemId,
    ResponseCode::ErrorCannotUseItemIdForFolderId,
    ResponseCode::ErrorChangeKeyRequired,
    ResponseCode::ErrorChangeKeyRequiredForWriteOperations,
    ResponseCode::ErrorClientDisconnected,
    ResponseCode::ErrorClientIntentInvalidStateDefinition,
    ResponseCode::ErrorClientIntentNotFound,
    ResponseCode::ErrorConnectionFailed,
    ResponseCode::ErrorContainsFilterWrongType,
    ResponseCode::ErrorContentConversionFailed,
    ResponseCode::ErrorContentIndexingNotEnabled,
    ResponseCode::ErrorCorruptData,
    ResponseCode::ErrorCreateItemAccessDenied,
    ResponseCode::ErrorCreateManagedFolderPartialCompletion,
    ResponseCode::ErrorCreateSubfolderAccessDenied,
    ResponseCode::ErrorCrossMailboxMoveCopy,
    ResponseCode::ErrorCrossSiteRequest,
    ResponseCode::ErrorDataSizeLimitExceeded,
    ResponseCode::ErrorDataSourceOperation,
    ResponseCode::ErrorDelegateAlreadyExists,
    ResponseCode::ErrorDelegateCannotAddOwner,
    ResponseCode::ErrorDelegateMissingConfiguration,
    ResponseCode::ErrorDelegateNoUser,
    ResponseCode::ErrorDelegateValidationFailed,
    ResponseCode::ErrorDeleteDistinguishedFolder,
    ResponseCode::ErrorDeleteItemsFailed,
    ResponseCode::ErrorDeleteUnifiedMessagingPromptFailed,
    ResponseCode::ErrorDistinguishedUserNotSupported,
    ResponseCode::ErrorDistributionListMemberNotExist,
    ResponseCode::ErrorDuplicateInputFolderNames,
    ResponseCode::ErrorDuplicateUserIdsSpecified,
    ResponseCode::ErrorEmailAddressMismatch,
    ResponseCode::ErrorEventNotFound,
    ResponseCode::ErrorExceededConnectionCount,
    ResponseCode::ErrorExceededSubscriptionCount,
    ResponseCode::ErrorExceededFindCountLimit,
    ResponseCode::ErrorExpiredSubscription,
    ResponseCode::ErrorExtensionNotFound,
    ResponseCode::ErrorExtensionsNotAuthorized,
    ResponseCode::ErrorFolderCorrupt,
    ResponseCode::ErrorFolderNotFound,
    ResponseCode::ErrorFolderPropertRequestFailed,
    ResponseCode::ErrorFolderSave,
    ResponseCode::ErrorFolderSaveFailed,
    ResponseCode::ErrorFolderSavePropertyError,
    ResponseCode::ErrorFolderExists,
    ResponseCode::ErrorFreeBusyGenerationFailed,
    ResponseCode::ErrorGetServerSecurityDescriptorFailed,
    ResponseCode::ErrorImContactLimitReached,
    ResponseCode::ErrorImGroupDisplayNameAlreadyExists,
    ResponseCode::ErrorImGroupLimitReached,
    ResponseCode::ErrorImpersonateUserDenied,
    ResponseCode::ErrorImpersonationDenied,
    ResponseCode::ErrorImpersonationFailed,
    ResponseCode::ErrorIncorrectSchemaVersion,
    ResponseCode::ErrorIncorrectUpdatePropertyCount,
    ResponseCode::ErrorIndividualMailboxLimitReached,
    ResponseCode::ErrorInsufficientResources,
    ResponseCode::ErrorInternalServerError,
    ResponseCode::ErrorInternalServerTransientError,
    ResponseCode::ErrorInvalidAccessLevel,
    ResponseCode::ErrorInvalidArgument,
    ResponseCode::ErrorInvalidAttachmentId,
    ResponseCode::ErrorInvalidAttachmentSubfilter,
    ResponseCode::ErrorInvalidAttachmentSubfilterTextFilter,
    ResponseCode::ErrorInvalidAuthorizationContext,
    ResponseCode::ErrorInvalidChangeKey,
    ResponseCode::ErrorInvalidClientSecurityContext,
    ResponseCode::ErrorInvalidCompleteDate,
    ResponseCode::ErrorInvalidContactEmailAddress,
    ResponseCode::ErrorInvalidContactEmailIndex,
    ResponseCode::ErrorInvalidCrossForestCredentials,
    ResponseCode::ErrorInvalidDelegatePermission,
    ResponseCode::ErrorInvalidDelegateUserId,
    ResponseCode::ErrorInvalidExcludesRestriction,
    ResponseCode::ErrorInvalidExpressionTypeForSubFilter,
    ResponseCode::ErrorInvalidExtendedProperty,
    ResponseCode::ErrorInvalidExtendedPropertyValue,
    ResponseCode::ErrorInvalidFolderId,
    ResponseCode::ErrorInvalidFolderTypeForOperation,
    ResponseCode::ErrorInvalidFractionalPagingParameters,
    ResponseCode::ErrorInvalidFreeBusyViewType,
    ResponseCode::ErrorInvalidId,
    ResponseCode::ErrorInvalidIdEmpty,
    ResponseCode::ErrorInvalidIdMalformed,
    ResponseCode::ErrorInvalidIdMalformedEwsLegacyIdFormat,
    ResponseCode::ErrorInvalidIdMonikerTooLong,
    ResponseCode::ErrorInvalidIdNotAnItemAttachmentId,
    ResponseCode::ErrorInvalidIdReturnedByResolveNames,
    ResponseCode::ErrorInvalidIdStoreObjectIdTooLong,
    ResponseCode::ErrorInvalidIdTooManyAttachmentLevels,
    ResponseCode::ErrorInvalidIdXml,
    ResponseCode::ErrorInvalidImContactId,
    ResponseCode::ErrorInvalidImDistributionGroupSmtpAddress,
    ResponseCode::ErrorInvalidImGroupId,
    ResponseCode::ErrorInvalidIndexedPagingParameters,
    ResponseCode::ErrorInvalidInternetHeaderChildNodes,
    ResponseCode::ErrorInvalidItemForOperationArchiveItem,
    ResponseCode::ErrorInvalidItemForOperationCreateItemAttachment,
    ResponseCode::ErrorInvalidItemForOperationCreateItem,
    ResponseCode::ErrorInvalidItemForOperationAcceptItem,
    ResponseCode::ErrorInvalidItemForOperationDeclineItem,
    ResponseCode::ErrorInvalidItemForOperationCancelItem,
    ResponseCode::ErrorInvalidItemForOperationExpandDL,
    ResponseCode::ErrorInvalidItemForOperationRemoveItem,
    ResponseCode::ErrorInvalidItemForOperationSendItem,
    ResponseCode::ErrorInvalidItemForOperationTentative,
    ResponseCode::ErrorInvalidLogonType,
    ResponseCode::ErrorInvalidLikeRequest,
    ResponseCode::ErrorInvalidMailbox,
    ResponseCode::ErrorInvalidManagedFolderProperty,
    ResponseCode::ErrorInvalidManagedFolderQuota,
    ResponseCode::ErrorInvalidManagedFolderSize,
    ResponseCode::ErrorInvalidMergedFreeBusyInterval,
    ResponseCode::ErrorInvalidNameForNameResolution,
    ResponseCode::ErrorInvalidOperation,
    ResponseCode::ErrorInvalidNetworkServiceContext,
    ResponseCode::ErrorInvalidOofParameter,
    ResponseCode::ErrorInvalidPagingMaxRows,
    ResponseCode::ErrorInvalidParentFolder,
    ResponseCode::ErrorInvalidPercentCompleteValue,
    ResponseCode::ErrorInvalidPermissionSettings,
    ResponseCode::ErrorInvalidPhoneCallId,
    ResponseCode::ErrorInvalidPhoneNumber,
    ResponseCode::ErrorInvalidUserInfo,
    ResponseCode::ErrorInvalidPropertyAppend,
    ResponseCode::ErrorInvalidPropertyDelete,
    ResponseCode::ErrorInvalidPropertyForExists,
    ResponseCode::ErrorInvalidPropertyForOperation,
    ResponseCode::ErrorInvalidPropertyRequest,
    ResponseCode::ErrorInvalidPropertySet,
    ResponseCode::ErrorInvalidPropertyUpdateSentMessage,
    ResponseCode::ErrorInvalidProxySecurityContext,
    ResponseCode::ErrorInvalidPullSubscriptionId,
    ResponseCode::ErrorInvalidPushSubscriptionUrl,
    ResponseCode::ErrorInvalidRecipients,
    ResponseCode::ErrorInvalidRecipientSubfilter,
    ResponseCode::ErrorInvalidRecipientSubfilterComparison,
    ResponseCode::ErrorInvalidRecipientSubfilterOrder,
    ResponseCode::ErrorInvalidRecipientSubfilterTextFilter,
    ResponseCode::ErrorInvalidReferenceItem,
    ResponseCode::ErrorInvalidRequest,
    ResponseCode::ErrorInvalidRestriction,
    ResponseCode::ErrorInvalidRetentionTagTypeMismatch,
    ResponseCode::ErrorInvalidRetentionTagInvisible,
    ResponseCode::ErrorInvalidRetentionTagInheritance,
    ResponseCode::ErrorInvalidRetentionTagIdGuid,
    ResponseCode::ErrorInvalidRoutingType,
    ResponseCode::ErrorInvalidScheduledOofDuration,
    ResponseCode::ErrorInvalidSchemaVersionForMailboxVersion,
    ResponseCode::ErrorInvalidSecurityDescriptor,
    ResponseCode::ErrorInvalidSendItemSaveSettings,
    ResponseCode::ErrorInvalidSerializedAccessToken,
    ResponseCode::ErrorInvalidServerVersion,
    ResponseCode::ErrorInvalidSid,
    ResponseCode::ErrorInvalidSIPUri,
    ResponseCode::ErrorInvalidSmtpAddress,
    ResponseCode::ErrorInvalidSubfilterType,
    ResponseCode::ErrorInvalidSubfilterTypeNotAttendeeType,
    ResponseCode::ErrorInvalidSubfilterTypeNotRecipientType,
    ResponseCode::ErrorInvalidSubscription,
    ResponseCode::ErrorInvalidSubscriptionRequest,
    ResponseCode::ErrorInvalidSyncStateData,
    ResponseCode::ErrorInvalidTimeInterval,
    ResponseCode::ErrorInvalidUserOofSettings,
    ResponseCode::ErrorInvalidUserPrincipalName,
    ResponseCode::ErrorInvalidUserSid,
    ResponseCode::ErrorInvalidUserSidMissingUPN,
    ResponseCode::ErrorInvalidValueForProperty,
    ResponseCode::ErrorInvalidWatermark,
    ResponseCode::ErrorIPGatewayNotFound,
    ResponseCode::ErrorIrresolvableConflict,
    ResponseCode::ErrorItemCorrupt,
    ResponseCode::ErrorItemNotFound,
    ResponseCode::ErrorItemPropertyRequestFailed,
    ResponseCode::ErrorItemSave,
    ResponseCode::ErrorItemSavePropertyError,
    ResponseCode::ErrorLegacyMailboxFreeBusyViewTypeNotMerged,
    ResponseCode::ErrorLocalServerObjectNotFound,
    ResponseCode::ErrorLogonAsNetworkServiceFailed,
    ResponseCode::ErrorMailboxConfiguration,
    ResponseCode::ErrorMailboxDataArrayEmpty,
    ResponseCode::ErrorMailboxDataArrayTooBig,
    ResponseCode::ErrorMailboxHoldNotFound,
    ResponseCode::ErrorMailboxLogonFailed,
    ResponseCode::ErrorMailboxMoveInProgress,
    ResponseCode::ErrorMailboxStoreUnavailable,
    ResponseCode::ErrorMailRecipientNotFound,
    ResponseCode::ErrorMailTipsDisabled,
    ResponseCode::ErrorManagedFolderAlreadyExists,
    ResponseCode::ErrorManagedFolderNotFound,
    ResponseCode::ErrorManagedFoldersRootFailure,
    ResponseCode::ErrorMeetingSuggestionGenerationFailed,
    ResponseCode::ErrorMessageDispositionRequired,
    ResponseCode::ErrorMessageSizeExceeded,
    ResponseCode::ErrorMimeContentConversionFailed,
    ResponseCode::ErrorMimeContentInvalid,
    ResponseCode::ErrorMimeContentInvalidBase64String,
    ResponseCode::ErrorMissingArgument,
    ResponseCode::ErrorMissingEmailAddress,
    ResponseCode::ErrorMissingEmailAddressForManagedFolder,
    ResponseCode::ErrorMissingInformationEmailAddress,
    ResponseCode::ErrorMissingInformationReferenceItemId,
    ResponseCode::ErrorMissingItemForCreateItemAttachment,
    ResponseCode::ErrorMissingManagedFolderId,
    ResponseCode::ErrorMissingRecipients,
    ResponseCode::ErrorMissingUserIdInformation,
    ResponseCode::ErrorMoreThanOneAccessModeSpecified,
    ResponseCode::ErrorMoveCopyFailed,
    ResponseCode::ErrorMoveDistinguishedFolder,
    ResponseCode::ErrorMultiLegacyMailboxAccess,
    ResponseCode::ErrorNameResolutionMultipleResults,
    ResponseCode::ErrorNameResolutionNoMailbox,
    ResponseCode::ErrorNameResolutionNoResults,
    ResponseCode::ErrorNoApplicableProxyCASServersAvailable,
    ResponseCode::ErrorNoCalendar,
    ResponseCode::ErrorNoDestinationCASDueToKerberosRequirements,
    ResponseCode::ErrorNoDestinationCASDueToSSLRequirements,
    ResponseCode::ErrorNoDestinationCASDueToVersionMismatch,
    ResponseCode::ErrorNoFolderClassOverride,
    ResponseCode::ErrorNoFreeBusyAccess,
    ResponseCode::ErrorNonExistentMailbox,
    ResponseCode::ErrorNonPrimarySmtpAddress,
    ResponseCode::ErrorNoPropertyTagForCustomProperties,
    ResponseCode::ErrorNoPublicFolderReplicaAvailable,
    ResponseCode::ErrorNoPublicFolderServerAvailable,
    ResponseCode::ErrorNoRespondingCASInDestinationSite,
    ResponseCode::ErrorNotDelegate,
    ResponseCode::ErrorNotEnoughMemory,
    ResponseCode::ErrorObjectTypeChanged,
    ResponseCode::ErrorOccurrenceCrossingBoundary,
    ResponseCode::ErrorOccurrenceTimeSpanTooBig,
    ResponseCode::ErrorOperationNotAllowedWithPublicFolderRoot,
    ResponseCode::ErrorParentFolderIdRequired,
    ResponseCode::ErrorParentFolderNotFound,
    ResponseCode::ErrorPasswordChangeRequired,
    ResponseCode::ErrorPasswordExpired,
    ResponseCode::ErrorPhoneNumberNotDialable,
    ResponseCode::ErrorPropertyUpdate,
    ResponseCode::ErrorPromptPublishingOperationFailed,
    ResponseCode::ErrorPropertyValidationFailure,
    ResponseCode::ErrorProxiedSubscriptionCallFailure,
    ResponseCode::ErrorProxyCallFailed,
    ResponseCode::ErrorProxyGroupSidLimitExceeded,
    ResponseCode::ErrorProxyRequestNotAllowed,
    ResponseCode::ErrorProxyRequestProcessingFailed,
    ResponseCode::ErrorProxyServiceDiscoveryFailed,
    ResponseCode::ErrorProxyTokenExpired,
    ResponseCode::ErrorPublicFolderMailboxDiscoveryFailed,
    ResponseCode::ErrorPublicFolderOperationFailed,
    ResponseCode::ErrorPublicFolderRequestProcessingFailed,
    ResponseCode::ErrorPublicFolderServerNotFound,
    ResponseCode::ErrorPublicFolderSyncException,
    ResponseCode::ErrorQueryFilterTooLong,
    ResponseCode::ErrorQuotaExceeded,
    ResponseCode::ErrorReadEventsFailed,
    ResponseCode::ErrorReadReceiptNotPending,
    ResponseCode::ErrorRecurrenceEndDateTooBig,
    ResponseCode::ErrorRecurrenceHasNoOccurrence,
    ResponseCode::ErrorRemoveDelegatesFailed,
    ResponseCode::ErrorRequestAborted,
    ResponseCode::ErrorRequestStreamTooBig,
    ResponseCode::ErrorRequiredPropertyMissing,
    ResponseCode::ErrorResolveNamesInvalidFolderType,
    ResponseCode::ErrorResolveNamesOnlyOneContactsFolderAllowed,
    ResponseCode::ErrorResponseSchemaValidation,
    ResponseCode::ErrorRestrictionTooLong,
    ResponseCode::ErrorRestrictionTooComplex,
    ResponseCode::ErrorResultSetTooBig,
    ResponseCode::ErrorInvalidExchangeImpersonationHeaderData,
    ResponseCode::ErrorSavedItemFolderNotFound,
    ResponseCode::ErrorSchemaValidation,
    ResponseCode::ErrorSearchFolderNotInitialized,
    ResponseCode::ErrorSendAsDenied,
    ResponseCode::ErrorSendMeetingCancellationsRequired,
    ResponseCode::ErrorSendMeetingInvitationsOrCancellationsRequired,
    ResponseCode::ErrorSendMeetingInvitationsRequired,
    ResponseCode::ErrorSentMeetingRequestUpdate,
    ResponseCode::ErrorSentTaskRequestUpdate,
    ResponseCode::ErrorServerBusy,
    ResponseCode::ErrorServiceDiscoveryFailed,
    ResponseCode::ErrorStaleObject,
    ResponseCode::ErrorSubmissionQuotaExceeded,
    ResponseCode::ErrorSubscriptionAccessDenied,
    ResponseCode::ErrorSubscriptionDelegateAccessNotSupported,
    ResponseCode::ErrorSubscriptionNotFound,
    ResponseCode::ErrorSubscriptionUnsubscribed,
    ResponseCode::ErrorSyncFolderNotFound,
    ResponseCode::ErrorTeamMailboxNotFound,
    ResponseCode::ErrorTeamMailboxNotLinkedToSharePoint,
    ResponseCode::ErrorTeamMailboxUrlValidationFailed,
    ResponseCode::ErrorTeamMailboxNotAuthorizedOwner,
    ResponseCode::ErrorTeamMailboxActiveToPendingDelete,
    ResponseCode::ErrorTeamMailboxFailedSendingNotifications,
    ResponseCode::ErrorTeamMailboxErrorUnknown,
    ResponseCode::ErrorTimeIntervalTooBig,
    ResponseCode::ErrorTimeoutExpired,
    ResponseCode::ErrorTimeZone,
    ResponseCode::ErrorToFolderNotFound,
    ResponseCode::ErrorTokenSerializationDenied,
    ResponseCode::ErrorTooManyObjectsOpened,
    ResponseCode::ErrorUpdatePropertyMismatch,
    ResponseCode::ErrorUnifiedGroupMailboxAADCreationFailed,
    ResponseCode::ErrorUnifiedGroupMailboxAADDeleteFailed,
    ResponseCode::ErrorUnifiedGroupMailboxNamingPolicy,
    ResponseCode::ErrorUnifiedGroupMailboxDeleteFailed,
    ResponseCode::ErrorUnifiedGroupMailboxNotFound,
    ResponseCode::ErrorUnifiedGroupMailboxUpdateDelayed,
    ResponseCode::ErrorUnifiedGroupMailboxUpdatedPartialProperties,
    ResponseCode::ErrorUnifiedGroupMailboxUpdateFailed,
    ResponseCode::ErrorUnifiedGroupMailboxProvisionFailed,
    ResponseCode::ErrorUnifiedMessagingDialPlanNotFound,
    ResponseCode::ErrorUnifiedMessagingReportDataNotFound,
    ResponseCode::ErrorUnifiedMessagingPromptNotFound,
    ResponseCode::ErrorUnifiedMessagingRequestFailed,
    ResponseCode::ErrorUnifiedMessagingServerNotFound,
    ResponseCode::ErrorUnableToGetUserOofSettings,
    ResponseCode::ErrorUnableToRemoveImContactFromGroup,
    ResponseCode::ErrorUnsupportedSubFilter,
    ResponseCode::ErrorUnsupportedCulture,
    ResponseCode::ErrorUnsupportedMapiPropertyType,
    ResponseCode::ErrorUnsupportedMimeConversion,
    ResponseCode::ErrorUnsupportedPathForQuery,
    ResponseCode::ErrorUnsupportedPathForSortGroup,
    ResponseCode::ErrorUnsupportedPropertyDefinition,
    ResponseCode::ErrorUnsupportedQueryFilter,
    ResponseCode::ErrorUnsupportedRecurrence,
    ResponseCode::ErrorUnsupportedTypeForConversion,
    ResponseCode::ErrorUpdateDelegatesFailed,
    ResponseCode::ErrorUserNotUnifiedMessagingEnabled,
    ResponseCode::ErrorVoiceMailNotImplemented,
    ResponseCode::ErrorValueOutOfRange,
    ResponseCode::ErrorVirusDetected,
    ResponseCode::ErrorVirusMessageDeleted,
    ResponseCode::ErrorWebRequestInInvalidState,
    ResponseCode::ErrorWin32InteropError,
    ResponseCode::ErrorWorkingHoursSaveFailed,
    ResponseCode::ErrorWorkingHoursXmlMalformed,
    ResponseCode::ErrorWrongServerVersion,
    ResponseCode::ErrorWrongServerVersionDelegate,
    ResponseCode::ErrorMissingInformationSharingFolderId,
    ResponseCode::ErrorDuplicateSOAPHeader,
    ResponseCode::ErrorSharingSynchronizationFailed,
    ResponseCode::ErrorSharingNoExternalEwsAvailable,
    ResponseCode::ErrorFreeBusyDLLimitReached,
    ResponseCode::ErrorInvalidGetSharingFolderRequest,
    ResponseCode::ErrorNotAllowedExternalSharingByPolicy,
    ResponseCode::ErrorUserNotAllowedByPolicy,
    ResponseCode::ErrorPermissionNotAllowedByPolicy,
    ResponseCode::ErrorOrganizationNotFederated,
    ResponseCode::ErrorMailboxFailover,
    ResponseCode::ErrorInvalidExternalSharingInitiator,
    ResponseCode::ErrorMessageTrackingPermanentError,
    ResponseCode::ErrorMessageTrackingTransientError,
    ResponseCode::ErrorMessageTrackingNoSuchDomain,
    ResponseCode::ErrorUserWithoutFederatedProxyAddress,
    ResponseCode::ErrorInvalidOrganizationRelationshipForFreeBusy,
    ResponseCode::ErrorInvalidFederatedOrganizationId,
    ResponseCode::ErrorInvalidExternalSharingSubscriber,
    ResponseCode::ErrorInvalidSharingData,
    ResponseCode::ErrorInvalidSharingMessage,
    ResponseCode::ErrorNotSupportedSharingMessage,
    ResponseCode::ErrorApplyConversationActionFailed,
    ResponseCode::ErrorInboxRulesValidationError,
    ResponseCode::ErrorOutlookRuleBlobExists,
    ResponseCode::ErrorRulesOverQuota,
    ResponseCode::ErrorNewEventStreamConnectionOpened,
    ResponseCode::ErrorMissedNotificationEvents,
    ResponseCode::ErrorDuplicateLegacyDistinguishedName,
    ResponseCode::ErrorInvalidClientAccessTokenRequest,
    ResponseCode::ErrorUnauthorizedClientAccessTokenRequest,
    ResponseCode::ErrorNoSpeechDetected,
    ResponseCode::ErrorUMServerUnavailable,
    ResponseCode::ErrorRecipientNotFound,
    ResponseCode::ErrorRecognizerNotInstalled,
    ResponseCode::ErrorSpeechGrammarError,
    ResponseCode::ErrorInvalidManagementRoleHeader,
    ResponseCode::ErrorLocationServicesDisabled,
    ResponseCode::ErrorLocationServicesRequestTimedOut,
    ResponseCode::ErrorLocationServicesRequestFailed,
    ResponseCode::ErrorLocationServicesInvalidRequest,
    ResponseCode::ErrorWeatherServiceDisabled,
    ResponseCode::ErrorMailboxScopeNotAllowedWithoutQueryString,
    ResponseCode::ErrorArchiveMailboxSearchFailed,
    ResponseCode::ErrorGetRemoteArchiveFolderFailed,
    ResponseCode::ErrorFindRemoteArchiveFolderFailed,
    ResponseCode::ErrorGetRemoteArchiveItemFailed,
    ResponseCode::ErrorExportRemoteArchiveItemsFailed,
    ResponseCode::ErrorInvalidPhotoSize,
    ResponseCode::ErrorSearchQueryHasTooManyKeywords,
    ResponseCode::ErrorSearchTooManyMailboxes,
    ResponseCode::ErrorInvalidRetentionTagNone,
    ResponseCode::ErrorDiscoverySearchesDisabled,
    ResponseCode::ErrorCalendarSeekToConditionNotSupported,
    ResponseCode::ErrorCalendarIsGroupMailboxForAccept,
    ResponseCode::ErrorCalendarIsGroupMailboxForDecline,
    ResponseCode::ErrorCalendarIsGroupMailboxForTentative,
    ResponseCode::ErrorCalendarIsGroupMailboxForSuppressReadReceipt,
    ResponseCode::ErrorOrganizationAccessBlocked,
    ResponseCode::ErrorInvalidLicense,
    ResponseCode::ErrorMessagePerFolderCountReceiveQuotaExceeded,
    ResponseCode::ErrorInvalidBulkActionType,
    ResponseCode::ErrorInvalidKeepNCount,
    ResponseCode::ErrorInvalidKeepNType,
    ResponseCode::ErrorNoOAuthServerAvailableForRequest,
    ResponseCode::ErrorInstantSearchSessionExpired,
    ResponseCode::ErrorInstantSearchTimeout,
    ResponseCode::ErrorInstantSearchFailed,
    ResponseCode::ErrorUnsupportedUserForExecuteSearch,
    ResponseCode::ErrorDuplicateExtendedKeywordDefinition,
    ResponseCode::ErrorMissingExchangePrincipal,
    ResponseCode::ErrorUnexpectedUnifiedGroupsCount,
    ResponseCode::ErrorParsingXMLResponse,
    ResponseCode::ErrorInvalidFederationOrganizationIdentifier,
    ResponseCode::ErrorInvalidSweepRule,
    ResponseCode::ErrorInvalidSweepRuleOperationType,
    ResponseCode::ErrorTargetDomainNotSupported,
    ResponseCode::ErrorInvalidInternetWebProxyOnLocalServer,
    ResponseCode::ErrorNoSenderRestrictionsSettingsFoundInRequest,
    ResponseCode::ErrorDuplicateSenderRestrictionsInputFound,
    ResponseCode::ErrorSenderRestrictionsUpdateFailed,
    ResponseCode::ErrorMessageSubmissionBlocked,
    ResponseCode::ErrorExceededMessageLimit,
    ResponseCode::ErrorExceededMaxRecipientLimitBlock,
    ResponseCode::ErrorAccountSuspend,
    ResponseCode::ErrorExceededMaxRecipientLimit,
    ResponseCode::ErrorMessageBlocked,
    ResponseCode::ErrorAccountSuspendShowTierUpgrade,
    ResponseCode::ErrorExceededMessageLimitShowTierUpgrade,
    ResponseCode::ErrorExceededMaxRecipientLimitShowTierUpgrade,
    ResponseCode::ErrorInvalidLongitude,
    ResponseCode::ErrorInvalidLatitude,
    ResponseCode::ErrorProxySoapException,
    ResponseCode::ErrorUnifiedGroupAlreadyExists,
    ResponseCode::ErrorUnifiedGroupAadAuthorizationRequestDenied,
    ResponseCode::ErrorUnifiedGroupCreationDisabled,
    ResponseCode::ErrorMarketPlaceExtensionAlreadyInstalledForOrg,
    ResponseCode::ErrorExtensionAlreadyInstalledForOrg,
    ResponseCode::ErrorNewerExtensionAlreadyInstalled,
    ResponseCode::ErrorNewerMarketPlaceExtensionAlreadyInstalled,
    ResponseCode::ErrorInvalidExtensionId,
    ResponseCode::ErrorCannotUninstallProvidedExtensions,
    ResponseCode::ErrorNoRbacPermissionToInstallMarketPlaceExtensions,
    ResponseCode::ErrorNoRbacPermissionToInstallReadWriteMailboxExtensions,
    ResponseCode::ErrorInvalidReportMessageActionType,
    ResponseCode::ErrorCannotDownloadExtensionManifest,
    ResponseCode::ErrorCalendarForwardActionNotAllowed,
    ResponseCode::ErrorUnifiedGroupAliasNamingPolicy,
    ResponseCode::ErrorSubscriptionsDisabledForGroup,
];

impl ResponseCode {
    /// Every code of the schema, in schema order (without `Other`).
    pub const ALL: &'static [ResponseCode] = ALL;

    /// Microsoft's spelling of the code (for `Other`, the text that was received).
    pub fn as_str(&self) -> &str {
        match self {
            ResponseCode::NoError => "NoError",
            ResponseCode::ErrorAccessDenied => "ErrorAccessDenied",
            ResponseCode::ErrorAccessModeSpecified => "ErrorAccessModeSpecified",
            ResponseCode::ErrorAccountDisabled => "ErrorAccountDisabled",
            ResponseCode::ErrorAddDelegatesFailed => "ErrorAddDelegatesFailed",
            ResponseCode::ErrorAddressSpaceNotFound => "ErrorAddressSpaceNotFound",
            ResponseCode::ErrorADOperation => "ErrorADOperation",
            ResponseCode::ErrorADSessionFilter => "ErrorADSessionFilter",
            ResponseCode::ErrorADUnavailable => "ErrorADUnavailable",
            ResponseCode::ErrorServiceUnavailable => "ErrorServiceUnavailable",
            ResponseCode::ErrorAutoDiscoverFailed => "ErrorAutoDiscoverFailed",
            ResponseCode::ErrorAffectedTaskOccurrencesRequired => {
                "ErrorAffectedTaskOccurrencesRequired"
            }
            ResponseCode::ErrorAttachmentNestLevelLimitExceeded => {
                "ErrorAttachmentNestLevelLimitExceeded"
            }
            ResponseCode::ErrorAttachmentSizeLimitExceeded => "ErrorAttachmentSizeLimitExceeded",
            ResponseCode::ErrorArchiveFolderPathCreation => "ErrorArchiveFolderPathCreation",
            ResponseCode::ErrorArchiveMailboxNotEnabled => "ErrorArchiveMailboxNotEnabled",
            ResponseCode::ErrorArchiveMailboxServiceDiscoveryFailed => {
                "ErrorArchiveMailboxServiceDiscoveryFailed"
            }
            ResponseCode::ErrorAvailabilityConfigNotFound => "ErrorAvailabilityConfigNotFound",
            ResponseCode::ErrorBatchProcessingStopped => "ErrorBatchProcessingStopped",
            ResponseCode::ErrorCalendarCannotMoveOrCopyOccurrence => {
                "ErrorCalendarCannotMoveOrCopyOccurrence"
            }
            ResponseCode::ErrorCalendarCannotUpdateDeletedItem => {
                "ErrorCalendarCannotUpdateDeletedItem"
            }
            ResponseCode::ErrorCalendarCannotUseIdForOccurrenceId => {
                "ErrorCalendarCannotUseIdForOccurrenceId"
            }
            ResponseCode::ErrorCalendarCannotUseIdForRecurringMasterId => {
                "ErrorCalendarCannotUseIdForRecurringMasterId"
            }
            ResponseCode::ErrorCalendarDurationIsTooLong => "ErrorCalendarDurationIsTooLong",
            ResponseCode::ErrorCalendarEndDateIsEarlierThanStartDate => {
                "ErrorCalendarEndDateIsEarlierThanStartDate"
            }
            ResponseCode::ErrorCalendarFolderIsInvalidForCalendarView => {
                "ErrorCalendarFolderIsInvalidForCalendarView"
            }
            ResponseCode::ErrorCalendarInvalidAttributeValue => {
                "ErrorCalendarInvalidAttributeValue"
            }
            ResponseCode::ErrorCalendarInvalidDayForTimeChangePattern => {
                "ErrorCalendarInvalidDayForTimeChangePattern"
            }
            ResponseCode::ErrorCalendarInvalidDayForWeeklyRecurrence => {
                "ErrorCalendarInvalidDayForWeeklyRecurrence"
            }
            ResponseCode::ErrorCalendarInvalidPropertyState => "ErrorCalendarInvalidPropertyState",
            ResponseCode::ErrorCalendarInvalidPropertyValue => "ErrorCalendarInvalidPropertyValue",
            ResponseCode::ErrorCalendarInvalidRecurrence => "ErrorCalendarInvalidRecurrence",
            ResponseCode::ErrorCalendarInvalidTimeZone => "ErrorCalendarInvalidTimeZone",
            ResponseCode::ErrorCalendarIsCancelledForAccept => "ErrorCalendarIsCancelledForAccept",
            ResponseCode::ErrorCalendarIsCancelledForDecline => {
                "ErrorCalendarIsCancelledForDecline"
            }
            ResponseCode::ErrorCalendarIsCancelledForRemove => "ErrorCalendarIsCancelledForRemove",
            ResponseCode::ErrorCalendarIsCancelledForTentative => {
                "ErrorCalendarIsCancelledForTentative"
            }
            ResponseCode::ErrorCalendarIsDelegatedForAccept => "ErrorCalendarIsDelegatedForAccept",
            ResponseCode::ErrorCalendarIsDelegatedForDecline => {
                "ErrorCalendarIsDelegatedForDecline"
            }
            ResponseCode::ErrorCalendarIsDelegatedForRemove => "ErrorCalendarIsDelegatedForRemove",
            ResponseCode::ErrorCalendarIsDelegatedForTentative => {
                "ErrorCalendarIsDelegatedForTentative"
            }
            ResponseCode::ErrorCalendarIsNotOrganizer => "ErrorCalendarIsNotOrganizer",
            ResponseCode::ErrorCalendarIsOrganizerForAccept => "ErrorCalendarIsOrganizerForAccept",
            ResponseCode::ErrorCalendarIsOrganizerForDecline => {
                "ErrorCalendarIsOrganizerForDecline"
            }
            ResponseCode::ErrorCalendarIsOrganizerForRemove => "ErrorCalendarIsOrganizerForRemove",
            ResponseCode::ErrorCalendarIsOrganizerForTentative => {
                "ErrorCalendarIsOrganizerForTentative"
            }
            ResponseCode::ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange => {
                "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange"
            }
            ResponseCode::ErrorCalendarOccurrenceIsDeletedFromRecurrence => {
                "ErrorCalendarOccurrenceIsDeletedFromRecurrence"
            }
            ResponseCode::ErrorCalendarOutOfRange => "ErrorCalendarOutOfRange",
            ResponseCode::ErrorCalendarMeetingRequestIsOutOfDate => {
                "ErrorCalendarMeetingRequestIsOutOfDate"
            }
            ResponseCode::ErrorCalendarViewRangeTooBig => "ErrorCalendarViewRangeTooBig",
            ResponseCode::ErrorCallerIsInvalidADAccount => "ErrorCallerIsInvalidADAccount",
            ResponseCode::ErrorCannotAccessDeletedPublicFolder => {
                "ErrorCannotAccessDeletedPublicFolder"
            }
            ResponseCode::ErrorCannotArchiveCalendarContactTaskFolderException => {
                "ErrorCannotArchiveCalendarContactTaskFolderException"
            }
            ResponseCode::ErrorCannotArchiveItemsInPublicFolders => {
                "ErrorCannotArchiveItemsInPublicFolders"
            }
            ResponseCode::ErrorCannotArchiveItemsInArchiveMailbox => {
                "ErrorCannotArchiveItemsInArchiveMailbox"
            }
            ResponseCode::ErrorCannotCreateCalendarItemInNonCalendarFolder => {
                "ErrorCannotCreateCalendarItemInNonCalendarFolder"
            }
            ResponseCode::ErrorCannotCreateContactInNonContactFolder => {
                "ErrorCannotCreateContactInNonContactFolder"
            }
            ResponseCode::ErrorCannotCreatePostItemInNonMailFolder => {
                "ErrorCannotCreatePostItemInNonMailFolder"
            }
            ResponseCode::ErrorCannotCreateTaskInNonTaskFolder => {
                "ErrorCannotCreateTaskInNonTaskFolder"
            }
            ResponseCode::ErrorCannotDeleteObject => "ErrorCannotDeleteObject",
            ResponseCode::ErrorCannotDisableMandatoryExtension => {
                "ErrorCannotDisableMandatoryExtension"
            }
            ResponseCode::ErrorCannotFindUser => "ErrorCannotFindUser",
            ResponseCode::ErrorCannotGetSourceFolderPath => "ErrorCannotGetSourceFolderPath",
            ResponseCode::ErrorCannotGetExternalEcpUrl => "ErrorCannotGetExternalEcpUrl",
            ResponseCode::ErrorCannotOpenFileAttachment => "ErrorCannotOpenFileAttachment",
            ResponseCode::ErrorCannotDeleteTaskOccurrence => "ErrorCannotDeleteTaskOccurrence",
            ResponseCode::ErrorCannotEmptyFolder => "ErrorCannotEmptyFolder",
            ResponseCode::ErrorCannotSetCalendarPermissionOnNonCalendarFolder => {
                "ErrorCannotSetCalendarPermissionOnNonCalendarFolder"
            }
            ResponseCode::ErrorCannotSetNonCalendarPermissionOnCalendarFolder => {
                "ErrorCannotSetNonCalendarPermissionOnCalendarFolder"
            }
            ResponseCode::ErrorCannotSetPermissionUnknownEntries => {
                "ErrorCannotSetPermissionUnknownEntries"
            }
            ResponseCode::ErrorCannotSpecifySearchFolderAsSourceFolder => {
                "ErrorCannotSpecifySearchFolderAsSourceFolder"
            }
            ResponseCode::ErrorCannotUseFolderIdForItemId => "ErrorCannotUseFolderIdForItemId",
            ResponseCode::ErrorCannotUseItemIdForFolderId => "ErrorCannotUseItemIdForFolderId",
            ResponseCode::ErrorChangeKeyRequired => "ErrorChangeKeyRequired",
            ResponseCode::ErrorChangeKeyRequiredForWriteOperations => {
                "ErrorChangeKeyRequiredForWriteOperations"
            }
            ResponseCode::ErrorClientDisconnected => "ErrorClientDisconnected",
            ResponseCode::ErrorClientIntentInvalidStateDefinition => {
                "ErrorClientIntentInvalidStateDefinition"
            }
            ResponseCode::ErrorClientIntentNotFound => "ErrorClientIntentNotFound",
            ResponseCode::ErrorConnectionFailed => "ErrorConnectionFailed",
            ResponseCode::ErrorContainsFilterWrongType => "ErrorContainsFilterWrongType",
            ResponseCode::ErrorContentConversionFailed => "ErrorContentConversionFailed",
            ResponseCode::ErrorContentIndexingNotEnabled => "ErrorContentIndexingNotEnabled",
            ResponseCode::ErrorCorruptData => "ErrorCorruptData",
            ResponseCode::ErrorCreateItemAccessDenied => "ErrorCreateItemAccessDenied",
            ResponseCode::ErrorCreateManagedFolderPartialCompletion => {
                "ErrorCreateManagedFolderPartialCompletion"
            }
            ResponseCode::ErrorCreateSubfolderAccessDenied => "ErrorCreateSubfolderAccessDenied",
            ResponseCode::ErrorCrossMailboxMoveCopy => "ErrorCrossMailboxMoveCopy",
            ResponseCode::ErrorCrossSiteRequest => "ErrorCrossSiteRequest",
            ResponseCode::ErrorDataSizeLimitExceeded => "ErrorDataSizeLimitExceeded",
            ResponseCode::ErrorDataSourceOperation => "ErrorDataSourceOperation",
            ResponseCode::ErrorDelegateAlreadyExists => "ErrorDelegateAlreadyExists",
            ResponseCode::ErrorDelegateCannotAddOwner => "ErrorDelegateCannotAddOwner",
            ResponseCode::ErrorDelegateMissingConfiguration => "ErrorDelegateMissingConfiguration",
            ResponseCode::ErrorDelegateNoUser => "ErrorDelegateNoUser",
            ResponseCode::ErrorDelegateValidationFailed => "ErrorDelegateValidationFailed",
            ResponseCode::ErrorDeleteDistinguishedFolder => "ErrorDeleteDistinguishedFolder",
            ResponseCode::ErrorDeleteItemsFailed => "ErrorDeleteItemsFailed",
            ResponseCode::ErrorDeleteUnifiedMessagingPromptFailed => {
                "ErrorDeleteUnifiedMessagingPromptFailed"
            }
            ResponseCode::ErrorDistinguishedUserNotSupported => {
                "ErrorDistinguishedUserNotSupported"
            }
            ResponseCode::ErrorDistributionListMemberNotExist => {
                "ErrorDistributionListMemberNotExist"
            }
            ResponseCode::ErrorDuplicateInputFolderNames => "ErrorDuplicateInputFolderNames",
            ResponseCode::ErrorDuplicateUserIdsSpecified => "ErrorDuplicateUserIdsSpecified",
            ResponseCode::ErrorEmailAddressMismatch => "ErrorEmailAddressMismatch",
            ResponseCode::ErrorEventNotFound => "ErrorEventNotFound",
            ResponseCode::ErrorExceededConnectionCount => "ErrorExceededConnectionCount",
            ResponseCode::ErrorExceededSubscriptionCount => "ErrorExceededSubscriptionCount",
            ResponseCode::ErrorExceededFindCountLimit => "ErrorExceededFindCountLimit",
            ResponseCode::ErrorExpiredSubscription => "ErrorExpiredSubscription",
            ResponseCode::ErrorExtensionNotFound => "ErrorExtensionNotFound",
            ResponseCode::ErrorExtensionsNotAuthorized => "ErrorExtensionsNotAuthorized",
            ResponseCode::ErrorFolderCorrupt => "ErrorFolderCorrupt",
            ResponseCode::ErrorFolderNotFound => "ErrorFolderNotFound",
            ResponseCode::ErrorFolderPropertRequestFailed => "ErrorFolderPropertRequestFailed",
            ResponseCode::ErrorFolderSave => "ErrorFolderSave",
            ResponseCode::ErrorFolderSaveFailed => "ErrorFolderSaveFailed",
            ResponseCode::ErrorFolderSavePropertyError => "ErrorFolderSavePropertyError",
            ResponseCode::ErrorFolderExists => "ErrorFolderExists",
            ResponseCode::ErrorFreeBusyGenerationFailed => "ErrorFreeBusyGenerationFailed",
            ResponseCode::ErrorGetServerSecurityDescriptorFailed => {
                "ErrorGetServerSecurityDescriptorFailed"
            }
            ResponseCode::ErrorImContactLimitReached => "ErrorImContactLimitReached",
            ResponseCode::ErrorImGroupDisplayNameAlreadyExists => {
                "ErrorImGroupDisplayNameAlreadyExists"
            }
            ResponseCode::ErrorImGroupLimitReached => "ErrorImGroupLimitReached",
            ResponseCode::ErrorImpersonateUserDenied => "ErrorImpersonateUserDenied",
            ResponseCode::ErrorImpersonationDenied => "ErrorImpersonationDenied",
            ResponseCode::ErrorImpersonationFailed => "ErrorImpersonationFailed",
            ResponseCode::ErrorIncorrectSchemaVersion => "ErrorIncorrectSchemaVersion",
            ResponseCode::ErrorIncorrectUpdatePropertyCount => "ErrorIncorrectUpdatePropertyCount",
            ResponseCode::ErrorIndividualMailboxLimitReached => {
                "ErrorIndividualMailboxLimitReached"
            }
            ResponseCode::ErrorInsufficientResources => "ErrorInsufficientResources",
            ResponseCode::ErrorInternalServerError => "ErrorInternalServerError",
            ResponseCode::ErrorInternalServerTransientError => "ErrorInternalServerTransientError",
            ResponseCode::ErrorInvalidAccessLevel => "ErrorInvalidAccessLevel",
            ResponseCode::ErrorInvalidArgument => "ErrorInvalidArgument",
            ResponseCode::ErrorInvalidAttachmentId => "ErrorInvalidAttachmentId",
            ResponseCode::ErrorInvalidAttachmentSubfilter => "ErrorInvalidAttachmentSubfilter",
            ResponseCode::ErrorInvalidAttachmentSubfilterTextFilter => {
                "ErrorInvalidAttachmentSubfilterTextFilter"
            }
            ResponseCode::ErrorInvalidAuthorizationContext => "ErrorInvalidAuthorizationContext",
            ResponseCode::ErrorInvalidChangeKey => "ErrorInvalidChangeKey",
            ResponseCode::ErrorInvalidClientSecurityContext => "ErrorInvalidClientSecurityContext",
            ResponseCode::ErrorInvalidCompleteDate => "ErrorInvalidCompleteDate",
            ResponseCode::ErrorInvalidContactEmailAddress => "ErrorInvalidContactEmailAddress",
            ResponseCode::ErrorInvalidContactEmailIndex => "ErrorInvalidContactEmailIndex",
            ResponseCode::ErrorInvalidCrossForestCredentials => {
                "ErrorInvalidCrossForestCredentials"
            }
            ResponseCode::ErrorInvalidDelegatePermission => "ErrorInvalidDelegatePermission",
            ResponseCode::ErrorInvalidDelegateUserId => "ErrorInvalidDelegateUserId",
            ResponseCode::ErrorInvalidExcludesRestriction => "ErrorInvalidExcludesRestriction",
            ResponseCode::ErrorInvalidExpressionTypeForSubFilter => {
                "ErrorInvalidExpressionTypeForSubFilter"
            }
            ResponseCode::ErrorInvalidExtendedProperty => "ErrorInvalidExtendedProperty",
            ResponseCode::ErrorInvalidExtendedPropertyValue => "ErrorInvalidExtendedPropertyValue",
            ResponseCode::ErrorInvalidFolderId => "ErrorInvalidFolderId",
            ResponseCode::ErrorInvalidFolderTypeForOperation => {
                "ErrorInvalidFolderTypeForOperation"
            }
            ResponseCode::ErrorInvalidFractionalPagingParameters => {
                "ErrorInvalidFractionalPagingParameters"
            }
            ResponseCode::ErrorInvalidFreeBusyViewType => "ErrorInvalidFreeBusyViewType",
            ResponseCode::ErrorInvalidId => "ErrorInvalidId",
            ResponseCode::ErrorInvalidIdEmpty => "ErrorInvalidIdEmpty",
            ResponseCode::ErrorInvalidIdMalformed => "ErrorInvalidIdMalformed",
            ResponseCode::ErrorInvalidIdMalformedEwsLegacyIdFormat => {
                "ErrorInvalidIdMalformedEwsLegacyIdFormat"
            }
            ResponseCode::ErrorInvalidIdMonikerTooLong => "ErrorInvalidIdMonikerTooLong",
            ResponseCode::ErrorInvalidIdNotAnItemAttachmentId => {
                "ErrorInvalidIdNotAnItemAttachmentId"
            }
            ResponseCode::ErrorInvalidIdReturnedByResolveNames => {
                "ErrorInvalidIdReturnedByResolveNames"
            }
            ResponseCode::ErrorInvalidIdStoreObjectIdTooLong => {
                "ErrorInvalidIdStoreObjectIdTooLong"
            }
            ResponseCode::ErrorInvalidIdTooManyAttachmentLevels => {
                "ErrorInvalidIdTooManyAttachmentLevels"
            }
            ResponseCode::ErrorInvalidIdXml => "ErrorInvalidIdXml",
            ResponseCode::ErrorInvalidImContactId => "ErrorInvalidImContactId",
            ResponseCode::ErrorInvalidImDistributionGroupSmtpAddress => {
                "ErrorInvalidImDistributionGroupSmtpAddress"
            }
            ResponseCode::ErrorInvalidImGroupId => "ErrorInvalidImGroupId",
            ResponseCode::ErrorInvalidIndexedPagingParameters => {
                "ErrorInvalidIndexedPagingParameters"
            }
            ResponseCode::ErrorInvalidInternetHeaderChildNodes => {
                "ErrorInvalidInternetHeaderChildNodes"
            }
            ResponseCode::ErrorInvalidItemForOperationArchiveItem => {
                "ErrorInvalidItemForOperationArchiveItem"
            }
            ResponseCode::ErrorInvalidItemForOperationCreateItemAttachment => {
                "ErrorInvalidItemForOperationCreateItemAttachment"
            }
            ResponseCode::ErrorInvalidItemForOperationCreateItem => {
                "ErrorInvalidItemForOperationCreateItem"
            }
            ResponseCode::ErrorInvalidItemForOperationAcceptItem => {
                "ErrorInvalidItemForOperationAcceptItem"
            }
            ResponseCode::ErrorInvalidItemForOperationDeclineItem => {
                "ErrorInvalidItemForOperationDeclineItem"
            }
            ResponseCode::ErrorInvalidItemForOperationCancelItem => {
                "ErrorInvalidItemForOperationCancelItem"
            }
            ResponseCode::ErrorInvalidItemForOperationExpandDL => {
                "ErrorInvalidItemForOperationExpandDL"
            }
            ResponseCode::ErrorInvalidItemForOperationRemoveItem => {
                "ErrorInvalidItemForOperationRemoveItem"
            }
            ResponseCode::ErrorInvalidItemForOperationSendItem => {
                "ErrorInvalidItemForOperationSendItem"
            }
            ResponseCode::ErrorInvalidItemForOperationTentative => {
                "ErrorInvalidItemForOperationTentative"
            }
            ResponseCode::ErrorInvalidLogonType => "ErrorInvalidLogonType",
            ResponseCode::ErrorInvalidLikeRequest => "ErrorInvalidLikeRequest",
            ResponseCode::ErrorInvalidMailbox => "ErrorInvalidMailbox",
            ResponseCode::ErrorInvalidManagedFolderProperty => "ErrorInvalidManagedFolderProperty",
            ResponseCode::ErrorInvalidManagedFolderQuota => "ErrorInvalidManagedFolderQuota",
            ResponseCode::ErrorInvalidManagedFolderSize => "ErrorInvalidManagedFolderSize",
            ResponseCode::ErrorInvalidMergedFreeBusyInterval => {
                "ErrorInvalidMergedFreeBusyInterval"
            }
            ResponseCode::ErrorInvalidNameForNameResolution => "ErrorInvalidNameForNameResolution",
            ResponseCode::ErrorInvalidOperation => "ErrorInvalidOperation",
            ResponseCode::ErrorInvalidNetworkServiceContext => "ErrorInvalidNetworkServiceContext",
            ResponseCode::ErrorInvalidOofParameter => "ErrorInvalidOofParameter",
            ResponseCode::ErrorInvalidPagingMaxRows => "ErrorInvalidPagingMaxRows",
            ResponseCode::ErrorInvalidParentFolder => "ErrorInvalidParentFolder",
            ResponseCode::ErrorInvalidPercentCompleteValue => "ErrorInvalidPercentCompleteValue",
            ResponseCode::ErrorInvalidPermissionSettings => "ErrorInvalidPermissionSettings",
            ResponseCode::ErrorInvalidPhoneCallId => "ErrorInvalidPhoneCallId",
            ResponseCode::ErrorInvalidPhoneNumber => "ErrorInvalidPhoneNumber",
            ResponseCode::ErrorInvalidUserInfo => "ErrorInvalidUserInfo",
            ResponseCode::ErrorInvalidPropertyAppend => "ErrorInvalidPropertyAppend",
            ResponseCode::ErrorInvalidPropertyDelete => "ErrorInvalidPropertyDelete",
            ResponseCode::ErrorInvalidPropertyForExists => "ErrorInvalidPropertyForExists",
            ResponseCode::ErrorInvalidPropertyForOperation => "ErrorInvalidPropertyForOperation",
            ResponseCode::ErrorInvalidPropertyRequest => "ErrorInvalidPropertyRequest",
            ResponseCode::ErrorInvalidPropertySet => "ErrorInvalidPropertySet",
            ResponseCode::ErrorInvalidPropertyUpdateSentMessage => {
                "ErrorInvalidPropertyUpdateSentMessage"
            }
            ResponseCode::ErrorInvalidProxySecurityContext => "ErrorInvalidProxySecurityContext",
            ResponseCode::ErrorInvalidPullSubscriptionId => "ErrorInvalidPullSubscriptionId",
            ResponseCode::ErrorInvalidPushSubscriptionUrl => "ErrorInvalidPushSubscriptionUrl",
            ResponseCode::ErrorInvalidRecipients => "ErrorInvalidRecipients",
            ResponseCode::ErrorInvalidRecipientSubfilter => "ErrorInvalidRecipientSubfilter",
            ResponseCode::ErrorInvalidRecipientSubfilterComparison => {
                "ErrorInvalidRecipientSubfilterComparison"
            }
            ResponseCode::ErrorInvalidRecipientSubfilterOrder => {
                "ErrorInvalidRecipientSubfilterOrder"
            }
            ResponseCode::ErrorInvalidRecipientSubfilterTextFilter => {
                "ErrorInvalidRecipientSubfilterTextFilter"
            }
            ResponseCode::ErrorInvalidReferenceItem => "ErrorInvalidReferenceItem",
            ResponseCode::ErrorInvalidRequest => "ErrorInvalidRequest",
            ResponseCode::ErrorInvalidRestriction => "ErrorInvalidRestriction",
            ResponseCode::ErrorInvalidRetentionTagTypeMismatch => {
                "ErrorInvalidRetentionTagTypeMismatch"
            }
            ResponseCode::ErrorInvalidRetentionTagInvisible => "ErrorInvalidRetentionTagInvisible",
            ResponseCode::ErrorInvalidRetentionTagInheritance => {
                "ErrorInvalidRetentionTagInheritance"
            }
            ResponseCode::ErrorInvalidRetentionTagIdGuid => "ErrorInvalidRetentionTagIdGuid",
            ResponseCode::ErrorInvalidRoutingType => "ErrorInvalidRoutingType",
            ResponseCode::ErrorInvalidScheduledOofDuration => "ErrorInvalidScheduledOofDuration",
            ResponseCode::ErrorInvalidSchemaVersionForMailboxVersion => {
                "ErrorInvalidSchemaVersionForMailboxVersion"
            }
            ResponseCode::ErrorInvalidSecurityDescriptor => "ErrorInvalidSecurityDescriptor",
            ResponseCode::ErrorInvalidSendItemSaveSettings => "ErrorInvalidSendItemSaveSettings",
            ResponseCode::ErrorInvalidSerializedAccessToken => "ErrorInvalidSerializedAccessToken",
            ResponseCode::ErrorInvalidServerVersion => "ErrorInvalidServerVersion",
            ResponseCode::ErrorInvalidSid => "ErrorInvalidSid",
            ResponseCode::ErrorInvalidSIPUri => "ErrorInvalidSIPUri",
            ResponseCode::ErrorInvalidSmtpAddress => "ErrorInvalidSmtpAddress",
            ResponseCode::ErrorInvalidSubfilterType => "ErrorInvalidSubfilterType",
            ResponseCode::ErrorInvalidSubfilterTypeNotAttendeeType => {
                "ErrorInvalidSubfilterTypeNotAttendeeType"
            }
            ResponseCode::ErrorInvalidSubfilterTypeNotRecipientType => {
                "ErrorInvalidSubfilterTypeNotRecipientType"
            }
            ResponseCode::ErrorInvalidSubscription => "ErrorInvalidSubscription",
            ResponseCode::ErrorInvalidSubscriptionRequest => "ErrorInvalidSubscriptionRequest",
            ResponseCode::ErrorInvalidSyncStateData => "ErrorInvalidSyncStateData",
            ResponseCode::ErrorInvalidTimeInterval => "ErrorInvalidTimeInterval",
            ResponseCode::ErrorInvalidUserOofSettings => "ErrorInvalidUserOofSettings",
            ResponseCode::ErrorInvalidUserPrincipalName => "ErrorInvalidUserPrincipalName",
            ResponseCode::ErrorInvalidUserSid => "ErrorInvalidUserSid",
            ResponseCode::ErrorInvalidUserSidMissingUPN => "ErrorInvalidUserSidMissingUPN",
            ResponseCode::ErrorInvalidValueForProperty => "ErrorInvalidValueForProperty",
            ResponseCode::ErrorInvalidWatermark => "ErrorInvalidWatermark",
            ResponseCode::ErrorIPGatewayNotFound => "ErrorIPGatewayNotFound",
            ResponseCode::ErrorIrresolvableConflict => "ErrorIrresolvableConflict",
            ResponseCode::ErrorItemCorrupt => "ErrorItemCorrupt",
            ResponseCode::ErrorItemNotFound => "ErrorItemNotFound",
            ResponseCode::ErrorItemPropertyRequestFailed => "ErrorItemPropertyRequestFailed",
            ResponseCode::ErrorItemSave => "ErrorItemSave",
            ResponseCode::ErrorItemSavePropertyError => "ErrorItemSavePropertyError",
            ResponseCode::ErrorLegacyMailboxFreeBusyViewTypeNotMerged => {
                "ErrorLegacyMailboxFreeBusyViewTypeNotMerged"
            }
            ResponseCode::ErrorLocalServerObjectNotFound => "ErrorLocalServerObjectNotFound",
            ResponseCode::ErrorLogonAsNetworkServiceFailed => "ErrorLogonAsNetworkServiceFailed",
            ResponseCode::ErrorMailboxConfiguration => "ErrorMailboxConfiguration",
            ResponseCode::ErrorMailboxDataArrayEmpty => "ErrorMailboxDataArrayEmpty",
            ResponseCode::ErrorMailboxDataArrayTooBig => "ErrorMailboxDataArrayTooBig",
            ResponseCode::ErrorMailboxHoldNotFound => "ErrorMailboxHoldNotFound",
            ResponseCode::ErrorMailboxLogonFailed => "ErrorMailboxLogonFailed",
            ResponseCode::ErrorMailboxMoveInProgress => "ErrorMailboxMoveInProgress",
            ResponseCode::ErrorMailboxStoreUnavailable => "ErrorMailboxStoreUnavailable",
            ResponseCode::ErrorMailRecipientNotFound => "ErrorMailRecipientNotFound",
            ResponseCode::ErrorMailTipsDisabled => "ErrorMailTipsDisabled",
            ResponseCode::ErrorManagedFolderAlreadyExists => "ErrorManagedFolderAlreadyExists",
            ResponseCode::ErrorManagedFolderNotFound => "ErrorManagedFolderNotFound",
            ResponseCode::ErrorManagedFoldersRootFailure => "ErrorManagedFoldersRootFailure",
            ResponseCode::ErrorMeetingSuggestionGenerationFailed => {
                "ErrorMeetingSuggestionGenerationFailed"
            }
            ResponseCode::ErrorMessageDispositionRequired => "ErrorMessageDispositionRequired",
            ResponseCode::ErrorMessageSizeExceeded => "ErrorMessageSizeExceeded",
            ResponseCode::ErrorMimeContentConversionFailed => "ErrorMimeContentConversionFailed",
            ResponseCode::ErrorMimeContentInvalid => "ErrorMimeContentInvalid",
            ResponseCode::ErrorMimeContentInvalidBase64String => {
                "ErrorMimeContentInvalidBase64String"
            }
            ResponseCode::ErrorMissingArgument => "ErrorMissingArgument",
            ResponseCode::ErrorMissingEmailAddress => "ErrorMissingEmailAddress",
            ResponseCode::ErrorMissingEmailAddressForManagedFolder => {
                "ErrorMissingEmailAddressForManagedFolder"
            }
            ResponseCode::ErrorMissingInformationEmailAddress => {
                "ErrorMissingInformationEmailAddress"
            }
            ResponseCode::ErrorMissingInformationReferenceItemId => {
                "ErrorMissingInformationReferenceItemId"
            }
            ResponseCode::ErrorMissingItemForCreateItemAttachment => {
                "ErrorMissingItemForCreateItemAttachment"
            }
            ResponseCode::ErrorMissingManagedFolderId => "ErrorMissingManagedFolderId",
            ResponseCode::ErrorMissingRecipients => "ErrorMissingRecipients",
            ResponseCode::ErrorMissingUserIdInformation => "ErrorMissingUserIdInformation",
            ResponseCode::ErrorMoreThanOneAccessModeSpecified => {
                "ErrorMoreThanOneAccessModeSpecified"
            }
            ResponseCode::ErrorMoveCopyFailed => "ErrorMoveCopyFailed",
            ResponseCode::ErrorMoveDistinguishedFolder => "ErrorMoveDistinguishedFolder",
            ResponseCode::ErrorMultiLegacyMailboxAccess => "ErrorMultiLegacyMailboxAccess",
            ResponseCode::ErrorNameResolutionMultipleResults => {
                "ErrorNameResolutionMultipleResults"
            }
            ResponseCode::ErrorNameResolutionNoMailbox => "ErrorNameResolutionNoMailbox",
            ResponseCode::ErrorNameResolutionNoResults => "ErrorNameResolutionNoResults",
            ResponseCode::ErrorNoApplicableProxyCASServersAvailable => {
                "ErrorNoApplicableProxyCASServersAvailable"
            }
            ResponseCode::ErrorNoCalendar => "ErrorNoCalendar",
            ResponseCode::ErrorNoDestinationCASDueToKerberosRequirements => {
                "ErrorNoDestinationCASDueToKerberosRequirements"
            }
            ResponseCode::ErrorNoDestinationCASDueToSSLRequirements => {
                "ErrorNoDestinationCASDueToSSLRequirements"
            }
            ResponseCode::ErrorNoDestinationCASDueToVersionMismatch => {
                "ErrorNoDestinationCASDueToVersionMismatch"
            }
            ResponseCode::ErrorNoFolderClassOverride => "ErrorNoFolderClassOverride",
            ResponseCode::ErrorNoFreeBusyAccess => "ErrorNoFreeBusyAccess",
            ResponseCode::ErrorNonExistentMailbox => "ErrorNonExistentMailbox",
            ResponseCode::ErrorNonPrimarySmtpAddress => "ErrorNonPrimarySmtpAddress",
            ResponseCode::ErrorNoPropertyTagForCustomProperties => {
                "ErrorNoPropertyTagForCustomProperties"
            }
            ResponseCode::ErrorNoPublicFolderReplicaAvailable => {
                "ErrorNoPublicFolderReplicaAvailable"
            }
            ResponseCode::ErrorNoPublicFolderServerAvailable => {
                "ErrorNoPublicFolderServerAvailable"
            }
            ResponseCode::ErrorNoRespondingCASInDestinationSite => {
                "ErrorNoRespondingCASInDestinationSite"
            }
            ResponseCode::ErrorNotDelegate => "ErrorNotDelegate",
            ResponseCode::ErrorNotEnoughMemory => "ErrorNotEnoughMemory",
            ResponseCode::ErrorObjectTypeChanged => "ErrorObjectTypeChanged",
            ResponseCode::ErrorOccurrenceCrossingBoundary => "ErrorOccurrenceCrossingBoundary",
            ResponseCode::ErrorOccurrenceTimeSpanTooBig => "ErrorOccurrenceTimeSpanTooBig",
            ResponseCode::ErrorOperationNotAllowedWithPublicFolderRoot => {
                "ErrorOperationNotAllowedWithPublicFolderRoot"
            }
            ResponseCode::ErrorParentFolderIdRequired => "ErrorParentFolderIdRequired",
            ResponseCode::ErrorParentFolderNotFound => "ErrorParentFolderNotFound",
            ResponseCode::ErrorPasswordChangeRequired => "ErrorPasswordChangeRequired",
            ResponseCode::ErrorPasswordExpired => "ErrorPasswordExpired",
            ResponseCode::ErrorPhoneNumberNotDialable => "ErrorPhoneNumberNotDialable",
            ResponseCode::ErrorPropertyUpdate => "ErrorPropertyUpdate",
            ResponseCode::ErrorPromptPublishingOperationFailed => {
                "ErrorPromptPublishingOperationFailed"
            }
            ResponseCode::ErrorPropertyValidationFailure => "ErrorPropertyValidationFailure",
            ResponseCode::ErrorProxiedSubscriptionCallFailure => {
                "ErrorProxiedSubscriptionCallFailure"
            }
            ResponseCode::ErrorProxyCallFailed => "ErrorProxyCallFailed",
            ResponseCode::ErrorProxyGroupSidLimitExceeded => "ErrorProxyGroupSidLimitExceeded",
            ResponseCode::ErrorProxyRequestNotAllowed => "ErrorProxyRequestNotAllowed",
            ResponseCode::ErrorProxyRequestProcessingFailed => "ErrorProxyRequestProcessingFailed",
            ResponseCode::ErrorProxyServiceDiscoveryFailed => "ErrorProxyServiceDiscoveryFailed",
            ResponseCode::ErrorProxyTokenExpired => "ErrorProxyTokenExpired",
            ResponseCode::ErrorPublicFolderMailboxDiscoveryFailed => {
                "ErrorPublicFolderMailboxDiscoveryFailed"
            }
            ResponseCode::ErrorPublicFolderOperationFailed => "ErrorPublicFolderOperationFailed",
            ResponseCode::ErrorPublicFolderRequestProcessingFailed => {
                "ErrorPublicFolderRequestProcessingFailed"
            }
            ResponseCode::ErrorPublicFolderServerNotFound => "ErrorPublicFolderServerNotFound",
            ResponseCode::ErrorPublicFolderSyncException => "ErrorPublicFolderSyncException",
            ResponseCode::ErrorQueryFilterTooLong => "ErrorQueryFilterTooLong",
            ResponseCode::ErrorQuotaExceeded => "ErrorQuotaExceeded",
            ResponseCode::ErrorReadEventsFailed => "ErrorReadEventsFailed",
            ResponseCode::ErrorReadReceiptNotPending => "ErrorReadReceiptNotPending",
            ResponseCode::ErrorRecurrenceEndDateTooBig => "ErrorRecurrenceEndDateTooBig",
            ResponseCode::ErrorRecurrenceHasNoOccurrence => "ErrorRecurrenceHasNoOccurrence",
            ResponseCode::ErrorRemoveDelegatesFailed => "ErrorRemoveDelegatesFailed",
            ResponseCode::ErrorRequestAborted => "ErrorRequestAborted",
            ResponseCode::ErrorRequestStreamTooBig => "ErrorRequestStreamTooBig",
            ResponseCode::ErrorRequiredPropertyMissing => "ErrorRequiredPropertyMissing",
            ResponseCode::ErrorResolveNamesInvalidFolderType => {
                "ErrorResolveNamesInvalidFolderType"
            }
            ResponseCode::ErrorResolveNamesOnlyOneContactsFolderAllowed => {
                "ErrorResolveNamesOnlyOneContactsFolderAllowed"
            }
            ResponseCode::ErrorResponseSchemaValidation => "ErrorResponseSchemaValidation",
            ResponseCode::ErrorRestrictionTooLong => "ErrorRestrictionTooLong",
            ResponseCode::ErrorRestrictionTooComplex => "ErrorRestrictionTooComplex",
            ResponseCode::ErrorResultSetTooBig => "ErrorResultSetTooBig",
            ResponseCode::ErrorInvalidExchangeImpersonationHeaderData => {
                "ErrorInvalidExchangeImpersonationHeaderData"
            }
            ResponseCode::ErrorSavedItemFolderNotFound => "ErrorSavedItemFolderNotFound",
            ResponseCode::ErrorSchemaValidation => "ErrorSchemaValidation",
            ResponseCode::ErrorSearchFolderNotInitialized => "ErrorSearchFolderNotInitialized",
            ResponseCode::ErrorSendAsDenied => "ErrorSendAsDenied",
            ResponseCode::ErrorSendMeetingCancellationsRequired => {
                "ErrorSendMeetingCancellationsRequired"
            }
            ResponseCode::ErrorSendMeetingInvitationsOrCancellationsRequired => {
                "ErrorSendMeetingInvitationsOrCancellationsRequired"
            }
            ResponseCode::ErrorSendMeetingInvitationsRequired => {
                "ErrorSendMeetingInvitationsRequired"
            }
            ResponseCode::ErrorSentMeetingRequestUpdate => "ErrorSentMeetingRequestUpdate",
            ResponseCode::ErrorSentTaskRequestUpdate => "ErrorSentTaskRequestUpdate",
            ResponseCode::ErrorServerBusy => "ErrorServerBusy",
            ResponseCode::ErrorServiceDiscoveryFailed => "ErrorServiceDiscoveryFailed",
            ResponseCode::ErrorStaleObject => "ErrorStaleObject",
            ResponseCode::ErrorSubmissionQuotaExceeded => "ErrorSubmissionQuotaExceeded",
            ResponseCode::ErrorSubscriptionAccessDenied => "ErrorSubscriptionAccessDenied",
            ResponseCode::ErrorSubscriptionDelegateAccessNotSupported => {
                "ErrorSubscriptionDelegateAccessNotSupported"
            }
            ResponseCode::ErrorSubscriptionNotFound => "ErrorSubscriptionNotFound",
            ResponseCode::ErrorSubscriptionUnsubscribed => "ErrorSubscriptionUnsubscribed",
            ResponseCode::ErrorSyncFolderNotFound => "ErrorSyncFolderNotFound",
            ResponseCode::ErrorTeamMailboxNotFound => "ErrorTeamMailboxNotFound",
            ResponseCode::ErrorTeamMailboxNotLinkedToSharePoint => {
                "ErrorTeamMailboxNotLinkedToSharePoint"
            }
            ResponseCode::ErrorTeamMailboxUrlValidationFailed => {
                "ErrorTeamMailboxUrlValidationFailed"
            }
            ResponseCode::ErrorTeamMailboxNotAuthorizedOwner => {
                "ErrorTeamMailboxNotAuthorizedOwner"
            }
            ResponseCode::ErrorTeamMailboxActiveToPendingDelete => {
                "ErrorTeamMailboxActiveToPendingDelete"
            }
            ResponseCode::ErrorTeamMailboxFailedSendingNotifications => {
                "ErrorTeamMailboxFailedSendingNotifications"
            }
            ResponseCode::ErrorTeamMailboxErrorUnknown => "ErrorTeamMailboxErrorUnknown",
            ResponseCode::ErrorTimeIntervalTooBig => "ErrorTimeIntervalTooBig",
            ResponseCode::ErrorTimeoutExpired => "ErrorTimeoutExpired",
            ResponseCode::ErrorTimeZone => "ErrorTimeZone",
            ResponseCode::ErrorToFolderNotFound => "ErrorToFolderNotFound",
            ResponseCode::ErrorTokenSerializationDenied => "ErrorTokenSerializationDenied",
            ResponseCode::ErrorTooManyObjectsOpened => "ErrorTooManyObjectsOpened",
            ResponseCode::ErrorUpdatePropertyMismatch => "ErrorUpdatePropertyMismatch",
            ResponseCode::ErrorUnifiedGroupMailboxAADCreationFailed => {
                "ErrorUnifiedGroupMailboxAADCreationFailed"
            }
            ResponseCode::ErrorUnifiedGroupMailboxAADDeleteFailed => {
                "ErrorUnifiedGroupMailboxAADDeleteFailed"
            }
            ResponseCode::ErrorUnifiedGroupMailboxNamingPolicy => {
                "ErrorUnifiedGroupMailboxNamingPolicy"
            }
            ResponseCode::ErrorUnifiedGroupMailboxDeleteFailed => {
                "ErrorUnifiedGroupMailboxDeleteFailed"
            }
            ResponseCode::ErrorUnifiedGroupMailboxNotFound => "ErrorUnifiedGroupMailboxNotFound",
            ResponseCode::ErrorUnifiedGroupMailboxUpdateDelayed => {
                "ErrorUnifiedGroupMailboxUpdateDelayed"
            }
            ResponseCode::ErrorUnifiedGroupMailboxUpdatedPartialProperties => {
                "ErrorUnifiedGroupMailboxUpdatedPartialProperties"
            }
            ResponseCode::ErrorUnifiedGroupMailboxUpdateFailed => {
                "ErrorUnifiedGroupMailboxUpdateFailed"
            }
            ResponseCode::ErrorUnifiedGroupMailboxProvisionFailed => {
                "ErrorUnifiedGroupMailboxProvisionFailed"
            }
            ResponseCode::ErrorUnifiedMessagingDialPlanNotFound => {
                "ErrorUnifiedMessagingDialPlanNotFound"
            }
            ResponseCode::ErrorUnifiedMessagingReportDataNotFound => {
                "ErrorUnifiedMessagingReportDataNotFound"
            }
            ResponseCode::ErrorUnifiedMessagingPromptNotFound => {
                "ErrorUnifiedMessagingPromptNotFound"
            }
            ResponseCode::ErrorUnifiedMessagingRequestFailed => {
                "ErrorUnifiedMessagingRequestFailed"
            }
            ResponseCode::ErrorUnifiedMessagingServerNotFound => {
                "ErrorUnifiedMessagingServerNotFound"
            }
            ResponseCode::ErrorUnableToGetUserOofSettings => "ErrorUnableToGetUserOofSettings",
            ResponseCode::ErrorUnableToRemoveImContactFromGroup => {
                "ErrorUnableToRemoveImContactFromGroup"
            }
            ResponseCode::ErrorUnsupportedSubFilter => "ErrorUnsupportedSubFilter",
            ResponseCode::ErrorUnsupportedCulture => "ErrorUnsupportedCulture",
            ResponseCode::ErrorUnsupportedMapiPropertyType => "ErrorUnsupportedMapiPropertyType",
            ResponseCode::ErrorUnsupportedMimeConversion => "ErrorUnsupportedMimeConversion",
            ResponseCode::ErrorUnsupportedPathForQuery => "ErrorUnsupportedPathForQuery",
            ResponseCode::ErrorUnsupportedPathForSortGroup => "ErrorUnsupportedPathForSortGroup",
            ResponseCode::ErrorUnsupportedPropertyDefinition => {
                "ErrorUnsupportedPropertyDefinition"
            }
            ResponseCode::ErrorUnsupportedQueryFilter => "ErrorUnsupportedQueryFilter",
            ResponseCode::ErrorUnsupportedRecurrence => "ErrorUnsupportedRecurrence",
            ResponseCode::ErrorUnsupportedTypeForConversion => "ErrorUnsupportedTypeForConversion",
            ResponseCode::ErrorUpdateDelegatesFailed => "ErrorUpdateDelegatesFailed",
            ResponseCode::ErrorUserNotUnifiedMessagingEnabled => {
                "ErrorUserNotUnifiedMessagingEnabled"
            }
            ResponseCode::ErrorVoiceMailNotImplemented => "ErrorVoiceMailNotImplemented",
            ResponseCode::ErrorValueOutOfRange => "ErrorValueOutOfRange",
            ResponseCode::ErrorVirusDetected => "ErrorVirusDetected",
            ResponseCode::ErrorVirusMessageDeleted => "ErrorVirusMessageDeleted",
            ResponseCode::ErrorWebRequestInInvalidState => "ErrorWebRequestInInvalidState",
            ResponseCode::ErrorWin32InteropError => "ErrorWin32InteropError",
            ResponseCode::ErrorWorkingHoursSaveFailed => "ErrorWorkingHoursSaveFailed",
            ResponseCode::ErrorWorkingHoursXmlMalformed => "ErrorWorkingHoursXmlMalformed",
            ResponseCode::ErrorWrongServerVersion => "ErrorWrongServerVersion",
            ResponseCode::ErrorWrongServerVersionDelegate => "ErrorWrongServerVersionDelegate",
            ResponseCode::ErrorMissingInformationSharingFolderId => {
                "ErrorMissingInformationSharingFolderId"
            }
            ResponseCode::ErrorDuplicateSOAPHeader => "ErrorDuplicateSOAPHeader",
            ResponseCode::ErrorSharingSynchronizationFailed => "ErrorSharingSynchronizationFailed",
            ResponseCode::ErrorSharingNoExternalEwsAvailable => {
                "ErrorSharingNoExternalEwsAvailable"
            }
            ResponseCode::ErrorFreeBusyDLLimitReached => "ErrorFreeBusyDLLimitReached",
            ResponseCode::ErrorInvalidGetSharingFolderRequest => {
                "ErrorInvalidGetSharingFolderRequest"
            }
            ResponseCode::ErrorNotAllowedExternalSharingByPolicy => {
                "ErrorNotAllowedExternalSharingByPolicy"
            }
            ResponseCode::ErrorUserNotAllowedByPolicy => "ErrorUserNotAllowedByPolicy",
            ResponseCode::ErrorPermissionNotAllowedByPolicy => "ErrorPermissionNotAllowedByPolicy",
            ResponseCode::ErrorOrganizationNotFederated => "ErrorOrganizationNotFederated",
            ResponseCode::ErrorMailboxFailover => "ErrorMailboxFailover",
            ResponseCode::ErrorInvalidExternalSharingInitiator => {
                "ErrorInvalidExternalSharingInitiator"
            }
            ResponseCode::ErrorMessageTrackingPermanentError => {
                "ErrorMessageTrackingPermanentError"
            }
            ResponseCode::ErrorMessageTrackingTransientError => {
                "ErrorMessageTrackingTransientError"
            }
            ResponseCode::ErrorMessageTrackingNoSuchDomain => "ErrorMessageTrackingNoSuchDomain",
            ResponseCode::ErrorUserWithoutFederatedProxyAddress => {
                "ErrorUserWithoutFederatedProxyAddress"
            }
            ResponseCode::ErrorInvalidOrganizationRelationshipForFreeBusy => {
                "ErrorInvalidOrganizationRelationshipForFreeBusy"
            }
            ResponseCode::ErrorInvalidFederatedOrganizationId => {
                "ErrorInvalidFederatedOrganizationId"
            }
            ResponseCode::ErrorInvalidExternalSharingSubscriber => {
                "ErrorInvalidExternalSharingSubscriber"
            }
            ResponseCode::ErrorInvalidSharingData => "ErrorInvalidSharingData",
            ResponseCode::ErrorInvalidSharingMessage => "ErrorInvalidSharingMessage",
            ResponseCode::ErrorNotSupportedSharingMessage => "ErrorNotSupportedSharingMessage",
            ResponseCode::ErrorApplyConversationActionFailed => {
                "ErrorApplyConversationActionFailed"
            }
            ResponseCode::ErrorInboxRulesValidationError => "ErrorInboxRulesValidationError",
            ResponseCode::ErrorOutlookRuleBlobExists => "ErrorOutlookRuleBlobExists",
            ResponseCode::ErrorRulesOverQuota => "ErrorRulesOverQuota",
            ResponseCode::ErrorNewEventStreamConnectionOpened => {
                "ErrorNewEventStreamConnectionOpened"
            }
            ResponseCode::ErrorMissedNotificationEvents => "ErrorMissedNotificationEvents",
            ResponseCode::ErrorDuplicateLegacyDistinguishedName => {
                "ErrorDuplicateLegacyDistinguishedName"
            }
            ResponseCode::ErrorInvalidClientAccessTokenRequest => {
                "ErrorInvalidClientAccessTokenRequest"
            }
            ResponseCode::ErrorUnauthorizedClientAccessTokenRequest => {
                "ErrorUnauthorizedClientAccessTokenRequest"
            }
            ResponseCode::ErrorNoSpeechDetected => "ErrorNoSpeechDetected",
            ResponseCode::ErrorUMServerUnavailable => "ErrorUMServerUnavailable",
            ResponseCode::ErrorRecipientNotFound => "ErrorRecipientNotFound",
            ResponseCode::ErrorRecognizerNotInstalled => "ErrorRecognizerNotInstalled",
            ResponseCode::ErrorSpeechGrammarError => "ErrorSpeechGrammarError",
            ResponseCode::ErrorInvalidManagementRoleHeader => "ErrorInvalidManagementRoleHeader",
            ResponseCode::ErrorLocationServicesDisabled => "ErrorLocationServicesDisabled",
            ResponseCode::ErrorLocationServicesRequestTimedOut => {
                "ErrorLocationServicesRequestTimedOut"
            }
            ResponseCode::ErrorLocationServicesRequestFailed => {
                "ErrorLocationServicesRequestFailed"
            }
            ResponseCode::ErrorLocationServicesInvalidRequest => {
                "ErrorLocationServicesInvalidRequest"
            }
            ResponseCode::ErrorWeatherServiceDisabled => "ErrorWeatherServiceDisabled",
            ResponseCode::ErrorMailboxScopeNotAllowedWithoutQueryString => {
                "ErrorMailboxScopeNotAllowedWithoutQueryString"
            }
            ResponseCode::ErrorArchiveMailboxSearchFailed => "ErrorArchiveMailboxSearchFailed",
            ResponseCode::ErrorGetRemoteArchiveFolderFailed => "ErrorGetRemoteArchiveFolderFailed",
            ResponseCode::ErrorFindRemoteArchiveFolderFailed => {
                "ErrorFindRemoteArchiveFolderFailed"
            }
            ResponseCode::ErrorGetRemoteArchiveItemFailed => "ErrorGetRemoteArchiveItemFailed",
            ResponseCode::ErrorExportRemoteArchiveItemsFailed => {
                "ErrorExportRemoteArchiveItemsFailed"
            }
            ResponseCode::ErrorInvalidPhotoSize => "ErrorInvalidPhotoSize",
            ResponseCode::ErrorSearchQueryHasTooManyKeywords => {
                "ErrorSearchQueryHasTooManyKeywords"
            }
            ResponseCode::ErrorSearchTooManyMailboxes => "ErrorSearchTooManyMailboxes",
            ResponseCode::ErrorInvalidRetentionTagNone => "ErrorInvalidRetentionTagNone",
            ResponseCode::ErrorDiscoverySearchesDisabled => "ErrorDiscoverySearchesDisabled",
            ResponseCode::ErrorCalendarSeekToConditionNotSupported => {
                "ErrorCalendarSeekToConditionNotSupported"
            }
            ResponseCode::ErrorCalendarIsGroupMailboxForAccept => {
                "ErrorCalendarIsGroupMailboxForAccept"
            }
            ResponseCode::ErrorCalendarIsGroupMailboxForDecline => {
                "ErrorCalendarIsGroupMailboxForDecline"
            }
            ResponseCode::ErrorCalendarIsGroupMailboxForTentative => {
                "ErrorCalendarIsGroupMailboxForTentative"
            }
            ResponseCode::ErrorCalendarIsGroupMailboxForSuppressReadReceipt => {
                "ErrorCalendarIsGroupMailboxForSuppressReadReceipt"
            }
            ResponseCode::ErrorOrganizationAccessBlocked => "ErrorOrganizationAccessBlocked",
            ResponseCode::ErrorInvalidLicense => "ErrorInvalidLicense",
            ResponseCode::ErrorMessagePerFolderCountReceiveQuotaExceeded => {
                "ErrorMessagePerFolderCountReceiveQuotaExceeded"
            }
            ResponseCode::ErrorInvalidBulkActionType => "ErrorInvalidBulkActionType",
            ResponseCode::ErrorInvalidKeepNCount => "ErrorInvalidKeepNCount",
            ResponseCode::ErrorInvalidKeepNType => "ErrorInvalidKeepNType",
            ResponseCode::ErrorNoOAuthServerAvailableForRequest => {
                "ErrorNoOAuthServerAvailableForRequest"
            }
            ResponseCode::ErrorInstantSearchSessionExpired => "ErrorInstantSearchSessionExpired",
            ResponseCode::ErrorInstantSearchTimeout => "ErrorInstantSearchTimeout",
            ResponseCode::ErrorInstantSearchFailed => "ErrorInstantSearchFailed",
            ResponseCode::ErrorUnsupportedUserForExecuteSearch => {
                "ErrorUnsupportedUserForExecuteSearch"
            }
            ResponseCode::ErrorDuplicateExtendedKeywordDefinition => {
                "ErrorDuplicateExtendedKeywordDefinition"
            }
            ResponseCode::ErrorMissingExchangePrincipal => "ErrorMissingExchangePrincipal",
            ResponseCode::ErrorUnexpectedUnifiedGroupsCount => "ErrorUnexpectedUnifiedGroupsCount",
            ResponseCode::ErrorParsingXMLResponse => "ErrorParsingXMLResponse",
            ResponseCode::ErrorInvalidFederationOrganizationIdentifier => {
                "ErrorInvalidFederationOrganizationIdentifier"
            }
            ResponseCode::ErrorInvalidSweepRule => "ErrorInvalidSweepRule",
            ResponseCode::ErrorInvalidSweepRuleOperationType => {
                "ErrorInvalidSweepRuleOperationType"
            }
            ResponseCode::ErrorTargetDomainNotSupported => "ErrorTargetDomainNotSupported",
            ResponseCode::ErrorInvalidInternetWebProxyOnLocalServer => {
                "ErrorInvalidInternetWebProxyOnLocalServer"
            }
            ResponseCode::ErrorNoSenderRestrictionsSettingsFoundInRequest => {
                "ErrorNoSenderRestrictionsSettingsFoundInRequest"
            }
            ResponseCode::ErrorDuplicateSenderRestrictionsInputFound => {
                "ErrorDuplicateSenderRestrictionsInputFound"
            }
            ResponseCode::ErrorSenderRestrictionsUpdateFailed => {
                "ErrorSenderRestrictionsUpdateFailed"
            }
            ResponseCode::ErrorMessageSubmissionBlocked => "ErrorMessageSubmissionBlocked",
            ResponseCode::ErrorExceededMessageLimit => "ErrorExceededMessageLimit",
            ResponseCode::ErrorExceededMaxRecipientLimitBlock => {
                "ErrorExceededMaxRecipientLimitBlock"
            }
            ResponseCode::ErrorAccountSuspend => "ErrorAccountSuspend",
            ResponseCode::ErrorExceededMaxRecipientLimit => "ErrorExceededMaxRecipientLimit",
            ResponseCode::ErrorMessageBlocked => "ErrorMessageBlocked",
            ResponseCode::ErrorAccountSuspendShowTierUpgrade => {
                "ErrorAccountSuspendShowTierUpgrade"
            }
            ResponseCode::ErrorExceededMessageLimitShowTierUpgrade => {
                "ErrorExceededMessageLimitShowTierUpgrade"
            }
            ResponseCode::ErrorExceededMaxRecipientLimitShowTierUpgrade => {
                "ErrorExceededMaxRecipientLimitShowTierUpgrade"
            }
            ResponseCode::ErrorInvalidLongitude => "ErrorInvalidLongitude",
            ResponseCode::ErrorInvalidLatitude => "ErrorInvalidLatitude",
            ResponseCode::ErrorProxySoapException => "ErrorProxySoapException",
            ResponseCode::ErrorUnifiedGroupAlreadyExists => "ErrorUnifiedGroupAlreadyExists",
            ResponseCode::ErrorUnifiedGroupAadAuthorizationRequestDenied => {
                "ErrorUnifiedGroupAadAuthorizationRequestDenied"
            }
            ResponseCode::ErrorUnifiedGroupCreationDisabled => "ErrorUnifiedGroupCreationDisabled",
            ResponseCode::ErrorMarketPlaceExtensionAlreadyInstalledForOrg => {
                "ErrorMarketPlaceExtensionAlreadyInstalledForOrg"
            }
            ResponseCode::ErrorExtensionAlreadyInstalledForOrg => {
                "ErrorExtensionAlreadyInstalledForOrg"
            }
            ResponseCode::ErrorNewerExtensionAlreadyInstalled => {
                "ErrorNewerExtensionAlreadyInstalled"
            }
            ResponseCode::ErrorNewerMarketPlaceExtensionAlreadyInstalled => {
                "ErrorNewerMarketPlaceExtensionAlreadyInstalled"
            }
            ResponseCode::ErrorInvalidExtensionId => "ErrorInvalidExtensionId",
            ResponseCode::ErrorCannotUninstallProvidedExtensions => {
                "ErrorCannotUninstallProvidedExtensions"
            }
            ResponseCode::ErrorNoRbacPermissionToInstallMarketPlaceExtensions => {
                "ErrorNoRbacPermissionToInstallMarketPlaceExtensions"
            }
            ResponseCode::ErrorNoRbacPermissionToInstallReadWriteMailboxExtensions => {
                "ErrorNoRbacPermissionToInstallReadWriteMailboxExtensions"
            }
            ResponseCode::ErrorInvalidReportMessageActionType => {
                "ErrorInvalidReportMessageActionType"
            }
            ResponseCode::ErrorCannotDownloadExtensionManifest => {
                "ErrorCannotDownloadExtensionManifest"
            }
            ResponseCode::ErrorCalendarForwardActionNotAllowed => {
                "ErrorCalendarForwardActionNotAllowed"
            }
            ResponseCode::ErrorUnifiedGroupAliasNamingPolicy => {
                "ErrorUnifiedGroupAliasNamingPolicy"
            }
            ResponseCode::ErrorSubscriptionsDisabledForGroup => {
                "ErrorSubscriptionsDisabledForGroup"
            }
            ResponseCode::Other(code) => code,
        }
    }

    /// Parses a code; surrounding whitespace is ignored and unknown codes become `Other`.
    pub fn parse(code: &str) -> ResponseCode {
        match code.trim() {
            "NoError" => ResponseCode::NoError,
            "ErrorAccessDenied" => ResponseCode::ErrorAccessDenied,
            "ErrorAccessModeSpecified" => ResponseCode::ErrorAccessModeSpecified,
            "ErrorAccountDisabled" => ResponseCode::ErrorAccountDisabled,
            "ErrorAddDelegatesFailed" => ResponseCode::ErrorAddDelegatesFailed,
            "ErrorAddressSpaceNotFound" => ResponseCode::ErrorAddressSpaceNotFound,
            "ErrorADOperation" => ResponseCode::ErrorADOperation,
            "ErrorADSessionFilter" => ResponseCode::ErrorADSessionFilter,
            "ErrorADUnavailable" => ResponseCode::ErrorADUnavailable,
            "ErrorServiceUnavailable" => ResponseCode::ErrorServiceUnavailable,
            "ErrorAutoDiscoverFailed" => ResponseCode::ErrorAutoDiscoverFailed,
            "ErrorAffectedTaskOccurrencesRequired" => {
                ResponseCode::ErrorAffectedTaskOccurrencesRequired
            }
            "ErrorAttachmentNestLevelLimitExceeded" => {
                ResponseCode::ErrorAttachmentNestLevelLimitExceeded
            }
            "ErrorAttachmentSizeLimitExceeded" => ResponseCode::ErrorAttachmentSizeLimitExceeded,
            "ErrorArchiveFolderPathCreation" => ResponseCode::ErrorArchiveFolderPathCreation,
            "ErrorArchiveMailboxNotEnabled" => ResponseCode::ErrorArchiveMailboxNotEnabled,
            "ErrorArchiveMailboxServiceDiscoveryFailed" => {
                ResponseCode::ErrorArchiveMailboxServiceDiscoveryFailed
            }
            "ErrorAvailabilityConfigNotFound" => ResponseCode::ErrorAvailabilityConfigNotFound,
            "ErrorBatchProcessingStopped" => ResponseCode::ErrorBatchProcessingStopped,
            "ErrorCalendarCannotMoveOrCopyOccurrence" => {
                ResponseCode::ErrorCalendarCannotMoveOrCopyOccurrence
            }
            "ErrorCalendarCannotUpdateDeletedItem" => {
                ResponseCode::ErrorCalendarCannotUpdateDeletedItem
            }
            "ErrorCalendarCannotUseIdForOccurrenceId" => {
                ResponseCode::ErrorCalendarCannotUseIdForOccurrenceId
            }
            "ErrorCalendarCannotUseIdForRecurringMasterId" => {
                ResponseCode::ErrorCalendarCannotUseIdForRecurringMasterId
            }
            "ErrorCalendarDurationIsTooLong" => ResponseCode::ErrorCalendarDurationIsTooLong,
            "ErrorCalendarEndDateIsEarlierThanStartDate" => {
                ResponseCode::ErrorCalendarEndDateIsEarlierThanStartDate
            }
            "ErrorCalendarFolderIsInvalidForCalendarView" => {
                ResponseCode::ErrorCalendarFolderIsInvalidForCalendarView
            }
            "ErrorCalendarInvalidAttributeValue" => {
                ResponseCode::ErrorCalendarInvalidAttributeValue
            }
            "ErrorCalendarInvalidDayForTimeChangePattern" => {
                ResponseCode::ErrorCalendarInvalidDayForTimeChangePattern
            }
            "ErrorCalendarInvalidDayForWeeklyRecurrence" => {
                ResponseCode::ErrorCalendarInvalidDayForWeeklyRecurrence
            }
            "ErrorCalendarInvalidPropertyState" => ResponseCode::ErrorCalendarInvalidPropertyState,
            "ErrorCalendarInvalidPropertyValue" => ResponseCode::ErrorCalendarInvalidPropertyValue,
            "ErrorCalendarInvalidRecurrence" => ResponseCode::ErrorCalendarInvalidRecurrence,
            "ErrorCalendarInvalidTimeZone" => ResponseCode::ErrorCalendarInvalidTimeZone,
            "ErrorCalendarIsCancelledForAccept" => ResponseCode::ErrorCalendarIsCancelledForAccept,
            "ErrorCalendarIsCancelledForDecline" => {
                ResponseCode::ErrorCalendarIsCancelledForDecline
            }
            "ErrorCalendarIsCancelledForRemove" => ResponseCode::ErrorCalendarIsCancelledForRemove,
            "ErrorCalendarIsCancelledForTentative" => {
                ResponseCode::ErrorCalendarIsCancelledForTentative
            }
            "ErrorCalendarIsDelegatedForAccept" => ResponseCode::ErrorCalendarIsDelegatedForAccept,
            "ErrorCalendarIsDelegatedForDecline" => {
                ResponseCode::ErrorCalendarIsDelegatedForDecline
            }
            "ErrorCalendarIsDelegatedForRemove" => ResponseCode::ErrorCalendarIsDelegatedForRemove,
            "ErrorCalendarIsDelegatedForTentative" => {
                ResponseCode::ErrorCalendarIsDelegatedForTentative
            }
            "ErrorCalendarIsNotOrganizer" => ResponseCode::ErrorCalendarIsNotOrganizer,
            "ErrorCalendarIsOrganizerForAccept" => ResponseCode::ErrorCalendarIsOrganizerForAccept,
            "ErrorCalendarIsOrganizerForDecline" => {
                ResponseCode::ErrorCalendarIsOrganizerForDecline
            }
            "ErrorCalendarIsOrganizerForRemove" => ResponseCode::ErrorCalendarIsOrganizerForRemove,
            "ErrorCalendarIsOrganizerForTentative" => {
                ResponseCode::ErrorCalendarIsOrganizerForTentative
            }
            "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange" => {
                ResponseCode::ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange
            }
            "ErrorCalendarOccurrenceIsDeletedFromRecurrence" => {
                ResponseCode::ErrorCalendarOccurrenceIsDeletedFromRecurrence
            }
            "ErrorCalendarOutOfRange" => ResponseCode::ErrorCalendarOutOfRange,
            "ErrorCalendarMeetingRequestIsOutOfDate" => {
                ResponseCode::ErrorCalendarMeetingRequestIsOutOfDate
            }
            "ErrorCalendarViewRangeTooBig" => ResponseCode::ErrorCalendarViewRangeTooBig,
            "ErrorCallerIsInvalidADAccount" => ResponseCode::ErrorCallerIsInvalidADAccount,
            "ErrorCannotAccessDeletedPublicFolder" => {
                ResponseCode::ErrorCannotAccessDeletedPublicFolder
            }
            "ErrorCannotArchiveCalendarContactTaskFolderException" => {
                ResponseCode::ErrorCannotArchiveCalendarContactTaskFolderException
            }
            "ErrorCannotArchiveItemsInPublicFolders" => {
                ResponseCode::ErrorCannotArchiveItemsInPublicFolders
            }
            "ErrorCannotArchiveItemsInArchiveMailbox" => {
                ResponseCode::ErrorCannotArchiveItemsInArchiveMailbox
            }
            "ErrorCannotCreateCalendarItemInNonCalendarFolder" => {
                ResponseCode::ErrorCannotCreateCalendarItemInNonCalendarFolder
            }
            "ErrorCannotCreateContactInNonContactFolder" => {
                ResponseCode::ErrorCannotCreateContactInNonContactFolder
            }
            "ErrorCannotCreatePostItemInNonMailFolder" => {
                ResponseCode::ErrorCannotCreatePostItemInNonMailFolder
            }
            "ErrorCannotCreateTaskInNonTaskFolder" => {
                ResponseCode::ErrorCannotCreateTaskInNonTaskFolder
            }
            "ErrorCannotDeleteObject" => ResponseCode::ErrorCannotDeleteObject,
            "ErrorCannotDisableMandatoryExtension" => {
                ResponseCode::ErrorCannotDisableMandatoryExtension
            }
            "ErrorCannotFindUser" => ResponseCode::ErrorCannotFindUser,
            "ErrorCannotGetSourceFolderPath" => ResponseCode::ErrorCannotGetSourceFolderPath,
            "ErrorCannotGetExternalEcpUrl" => ResponseCode::ErrorCannotGetExternalEcpUrl,
            "ErrorCannotOpenFileAttachment" => ResponseCode::ErrorCannotOpenFileAttachment,
            "ErrorCannotDeleteTaskOccurrence" => ResponseCode::ErrorCannotDeleteTaskOccurrence,
            "ErrorCannotEmptyFolder" => ResponseCode::ErrorCannotEmptyFolder,
            "ErrorCannotSetCalendarPermissionOnNonCalendarFolder" => {
                ResponseCode::ErrorCannotSetCalendarPermissionOnNonCalendarFolder
            }
            "ErrorCannotSetNonCalendarPermissionOnCalendarFolder" => {
                ResponseCode::ErrorCannotSetNonCalendarPermissionOnCalendarFolder
            }
            "ErrorCannotSetPermissionUnknownEntries" => {
                ResponseCode::ErrorCannotSetPermissionUnknownEntries
            }
            "ErrorCannotSpecifySearchFolderAsSourceFolder" => {
                ResponseCode::ErrorCannotSpecifySearchFolderAsSourceFolder
            }
            "ErrorCannotUseFolderIdForItemId" => ResponseCode::ErrorCannotUseFolderIdForItemId,
            "ErrorCannotUseItemIdForFolderId" => ResponseCode::ErrorCannotUseItemIdForFolderId,
            "ErrorChangeKeyRequired" => ResponseCode::ErrorChangeKeyRequired,
            "ErrorChangeKeyRequiredForWriteOperations" => {
                ResponseCode::ErrorChangeKeyRequiredForWriteOperations
            }
            "ErrorClientDisconnected" => ResponseCode::ErrorClientDisconnected,
            "ErrorClientIntentInvalidStateDefinition" => {
                ResponseCode::ErrorClientIntentInvalidStateDefinition
            }
            "ErrorClientIntentNotFound" => ResponseCode::ErrorClientIntentNotFound,
            "ErrorConnectionFailed" => ResponseCode::ErrorConnectionFailed,
            "ErrorContainsFilterWrongType" => ResponseCode::ErrorContainsFilterWrongType,
            "ErrorContentConversionFailed" => ResponseCode::ErrorContentConversionFailed,
            "ErrorContentIndexingNotEnabled" => ResponseCode::ErrorContentIndexingNotEnabled,
            "ErrorCorruptData" => ResponseCode::ErrorCorruptData,
            "ErrorCreateItemAccessDenied" => ResponseCode::ErrorCreateItemAccessDenied,
            "ErrorCreateManagedFolderPartialCompletion" => {
                ResponseCode::ErrorCreateManagedFolderPartialCompletion
            }
            "ErrorCreateSubfolderAccessDenied" => ResponseCode::ErrorCreateSubfolderAccessDenied,
            "ErrorCrossMailboxMoveCopy" => ResponseCode::ErrorCrossMailboxMoveCopy,
            "ErrorCrossSiteRequest" => ResponseCode::ErrorCrossSiteRequest,
            "ErrorDataSizeLimitExceeded" => ResponseCode::ErrorDataSizeLimitExceeded,
            "ErrorDataSourceOperation" => ResponseCode::ErrorDataSourceOperation,
            "ErrorDelegateAlreadyExists" => ResponseCode::ErrorDelegateAlreadyExists,
            "ErrorDelegateCannotAddOwner" => ResponseCode::ErrorDelegateCannotAddOwner,
            "ErrorDelegateMissingConfiguration" => ResponseCode::ErrorDelegateMissingConfiguration,
            "ErrorDelegateNoUser" => ResponseCode::ErrorDelegateNoUser,
            "ErrorDelegateValidationFailed" => ResponseCode::ErrorDelegateValidationFailed,
            "ErrorDeleteDistinguishedFolder" => ResponseCode::ErrorDeleteDistinguishedFolder,
            "ErrorDeleteItemsFailed" => ResponseCode::ErrorDeleteItemsFailed,
            "ErrorDeleteUnifiedMessagingPromptFailed" => {
                ResponseCode::ErrorDeleteUnifiedMessagingPromptFailed
            }
            "ErrorDistinguishedUserNotSupported" => {
                ResponseCode::ErrorDistinguishedUserNotSupported
            }
            "ErrorDistributionListMemberNotExist" => {
                ResponseCode::ErrorDistributionListMemberNotExist
            }
            "ErrorDuplicateInputFolderNames" => ResponseCode::ErrorDuplicateInputFolderNames,
            "ErrorDuplicateUserIdsSpecified" => ResponseCode::ErrorDuplicateUserIdsSpecified,
            "ErrorEmailAddressMismatch" => ResponseCode::ErrorEmailAddressMismatch,
            "ErrorEventNotFound" => ResponseCode::ErrorEventNotFound,
            "ErrorExceededConnectionCount" => ResponseCode::ErrorExceededConnectionCount,
            "ErrorExceededSubscriptionCount" => ResponseCode::ErrorExceededSubscriptionCount,
            "ErrorExceededFindCountLimit" => ResponseCode::ErrorExceededFindCountLimit,
            "ErrorExpiredSubscription" => ResponseCode::ErrorExpiredSubscription,
            "ErrorExtensionNotFound" => ResponseCode::ErrorExtensionNotFound,
            "ErrorExtensionsNotAuthorized" => ResponseCode::ErrorExtensionsNotAuthorized,
            "ErrorFolderCorrupt" => ResponseCode::ErrorFolderCorrupt,
            "ErrorFolderNotFound" => ResponseCode::ErrorFolderNotFound,
            "ErrorFolderPropertRequestFailed" => ResponseCode::ErrorFolderPropertRequestFailed,
            "ErrorFolderSave" => ResponseCode::ErrorFolderSave,
            "ErrorFolderSaveFailed" => ResponseCode::ErrorFolderSaveFailed,
            "ErrorFolderSavePropertyError" => ResponseCode::ErrorFolderSavePropertyError,
            "ErrorFolderExists" => ResponseCode::ErrorFolderExists,
            "ErrorFreeBusyGenerationFailed" => ResponseCode::ErrorFreeBusyGenerationFailed,
            "ErrorGetServerSecurityDescriptorFailed" => {
                ResponseCode::ErrorGetServerSecurityDescriptorFailed
            }
            "ErrorImContactLimitReached" => ResponseCode::ErrorImContactLimitReached,
            "ErrorImGroupDisplayNameAlreadyExists" => {
                ResponseCode::ErrorImGroupDisplayNameAlreadyExists
            }
            "ErrorImGroupLimitReached" => ResponseCode::ErrorImGroupLimitReached,
            "ErrorImpersonateUserDenied" => ResponseCode::ErrorImpersonateUserDenied,
            "ErrorImpersonationDenied" => ResponseCode::ErrorImpersonationDenied,
            "ErrorImpersonationFailed" => ResponseCode::ErrorImpersonationFailed,
            "ErrorIncorrectSchemaVersion" => ResponseCode::ErrorIncorrectSchemaVersion,
            "ErrorIncorrectUpdatePropertyCount" => ResponseCode::ErrorIncorrectUpdatePropertyCount,
            "ErrorIndividualMailboxLimitReached" => {
                ResponseCode::ErrorIndividualMailboxLimitReached
            }
            "ErrorInsufficientResources" => ResponseCode::ErrorInsufficientResources,
            "ErrorInternalServerError" => ResponseCode::ErrorInternalServerError,
            "ErrorInternalServerTransientError" => ResponseCode::ErrorInternalServerTransientError,
            "ErrorInvalidAccessLevel" => ResponseCode::ErrorInvalidAccessLevel,
            "ErrorInvalidArgument" => ResponseCode::ErrorInvalidArgument,
            "ErrorInvalidAttachmentId" => ResponseCode::ErrorInvalidAttachmentId,
            "ErrorInvalidAttachmentSubfilter" => ResponseCode::ErrorInvalidAttachmentSubfilter,
            "ErrorInvalidAttachmentSubfilterTextFilter" => {
                ResponseCode::ErrorInvalidAttachmentSubfilterTextFilter
            }
            "ErrorInvalidAuthorizationContext" => ResponseCode::ErrorInvalidAuthorizationContext,
            "ErrorInvalidChangeKey" => ResponseCode::ErrorInvalidChangeKey,
            "ErrorInvalidClientSecurityContext" => ResponseCode::ErrorInvalidClientSecurityContext,
            "ErrorInvalidCompleteDate" => ResponseCode::ErrorInvalidCompleteDate,
            "ErrorInvalidContactEmailAddress" => ResponseCode::ErrorInvalidContactEmailAddress,
            "ErrorInvalidContactEmailIndex" => ResponseCode::ErrorInvalidContactEmailIndex,
            "ErrorInvalidCrossForestCredentials" => {
                ResponseCode::ErrorInvalidCrossForestCredentials
            }
            "ErrorInvalidDelegatePermission" => ResponseCode::ErrorInvalidDelegatePermission,
            "ErrorInvalidDelegateUserId" => ResponseCode::ErrorInvalidDelegateUserId,
            "ErrorInvalidExcludesRestriction" => ResponseCode::ErrorInvalidExcludesRestriction,
            "ErrorInvalidExpressionTypeForSubFilter" => {
                ResponseCode::ErrorInvalidExpressionTypeForSubFilter
            }
            "ErrorInvalidExtendedProperty" => ResponseCode::ErrorInvalidExtendedProperty,
            "ErrorInvalidExtendedPropertyValue" => ResponseCode::ErrorInvalidExtendedPropertyValue,
            "ErrorInvalidFolderId" => ResponseCode::ErrorInvalidFolderId,
            "ErrorInvalidFolderTypeForOperation" => {
                ResponseCode::ErrorInvalidFolderTypeForOperation
            }
            "ErrorInvalidFractionalPagingParameters" => {
                ResponseCode::ErrorInvalidFractionalPagingParameters
            }
            "ErrorInvalidFreeBusyViewType" => ResponseCode::ErrorInvalidFreeBusyViewType,
            "ErrorInvalidId" => ResponseCode::ErrorInvalidId,
            "ErrorInvalidIdEmpty" => ResponseCode::ErrorInvalidIdEmpty,
            "ErrorInvalidIdMalformed" => ResponseCode::ErrorInvalidIdMalformed,
            "ErrorInvalidIdMalformedEwsLegacyIdFormat" => {
                ResponseCode::ErrorInvalidIdMalformedEwsLegacyIdFormat
            }
            "ErrorInvalidIdMonikerTooLong" => ResponseCode::ErrorInvalidIdMonikerTooLong,
            "ErrorInvalidIdNotAnItemAttachmentId" => {
                ResponseCode::ErrorInvalidIdNotAnItemAttachmentId
            }
            "ErrorInvalidIdReturnedByResolveNames" => {
                ResponseCode::ErrorInvalidIdReturnedByResolveNames
            }
            "ErrorInvalidIdStoreObjectIdTooLong" => {
                ResponseCode::ErrorInvalidIdStoreObjectIdTooLong
            }
            "ErrorInvalidIdTooManyAttachmentLevels" => {
                ResponseCode::ErrorInvalidIdTooManyAttachmentLevels
            }
            "ErrorInvalidIdXml" => ResponseCode::ErrorInvalidIdXml,
            "ErrorInvalidImContactId" => ResponseCode::ErrorInvalidImContactId,
            "ErrorInvalidImDistributionGroupSmtpAddress" => {
                ResponseCode::ErrorInvalidImDistributionGroupSmtpAddress
            }
            "ErrorInvalidImGroupId" => ResponseCode::ErrorInvalidImGroupId,
            "ErrorInvalidIndexedPagingParameters" => {
                ResponseCode::ErrorInvalidIndexedPagingParameters
            }
            "ErrorInvalidInternetHeaderChildNodes" => {
                ResponseCode::ErrorInvalidInternetHeaderChildNodes
            }
            "ErrorInvalidItemForOperationArchiveItem" => {
                ResponseCode::ErrorInvalidItemForOperationArchiveItem
            }
            "ErrorInvalidItemForOperationCreateItemAttachment" => {
                ResponseCode::ErrorInvalidItemForOperationCreateItemAttachment
            }
            "ErrorInvalidItemForOperationCreateItem" => {
                ResponseCode::ErrorInvalidItemForOperationCreateItem
            }
            "ErrorInvalidItemForOperationAcceptItem" => {
                ResponseCode::ErrorInvalidItemForOperationAcceptItem
            }
            "ErrorInvalidItemForOperationDeclineItem" => {
                ResponseCode::ErrorInvalidItemForOperationDeclineItem
            }
            "ErrorInvalidItemForOperationCancelItem" => {
                ResponseCode::ErrorInvalidItemForOperationCancelItem
            }
            "ErrorInvalidItemForOperationExpandDL" => {
                ResponseCode::ErrorInvalidItemForOperationExpandDL
            }
            "ErrorInvalidItemForOperationRemoveItem" => {
                ResponseCode::ErrorInvalidItemForOperationRemoveItem
            }
            "ErrorInvalidItemForOperationSendItem" => {
                ResponseCode::ErrorInvalidItemForOperationSendItem
            }
            "ErrorInvalidItemForOperationTentative" => {
                ResponseCode::ErrorInvalidItemForOperationTentative
            }
            "ErrorInvalidLogonType" => ResponseCode::ErrorInvalidLogonType,
            "ErrorInvalidLikeRequest" => ResponseCode::ErrorInvalidLikeRequest,
            "ErrorInvalidMailbox" => ResponseCode::ErrorInvalidMailbox,
            "ErrorInvalidManagedFolderProperty" => ResponseCode::ErrorInvalidManagedFolderProperty,
            "ErrorInvalidManagedFolderQuota" => ResponseCode::ErrorInvalidManagedFolderQuota,
            "ErrorInvalidManagedFolderSize" => ResponseCode::ErrorInvalidManagedFolderSize,
            "ErrorInvalidMergedFreeBusyInterval" => {
                ResponseCode::ErrorInvalidMergedFreeBusyInterval
            }
            "ErrorInvalidNameForNameResolution" => ResponseCode::ErrorInvalidNameForNameResolution,
            "ErrorInvalidOperation" => ResponseCode::ErrorInvalidOperation,
            "ErrorInvalidNetworkServiceContext" => ResponseCode::ErrorInvalidNetworkServiceContext,
            "ErrorInvalidOofParameter" => ResponseCode::ErrorInvalidOofParameter,
            "ErrorInvalidPagingMaxRows" => ResponseCode::ErrorInvalidPagingMaxRows,
            "ErrorInvalidParentFolder" => ResponseCode::ErrorInvalidParentFolder,
            "ErrorInvalidPercentCompleteValue" => ResponseCode::ErrorInvalidPercentCompleteValue,
            "ErrorInvalidPermissionSettings" => ResponseCode::ErrorInvalidPermissionSettings,
            "ErrorInvalidPhoneCallId" => ResponseCode::ErrorInvalidPhoneCallId,
            "ErrorInvalidPhoneNumber" => ResponseCode::ErrorInvalidPhoneNumber,
            "ErrorInvalidUserInfo" => ResponseCode::ErrorInvalidUserInfo,
            "ErrorInvalidPropertyAppend" => ResponseCode::ErrorInvalidPropertyAppend,
            "ErrorInvalidPropertyDelete" => ResponseCode::ErrorInvalidPropertyDelete,
            "ErrorInvalidPropertyForExists" => ResponseCode::ErrorInvalidPropertyForExists,
            "ErrorInvalidPropertyForOperation" => ResponseCode::ErrorInvalidPropertyForOperation,
            "ErrorInvalidPropertyRequest" => ResponseCode::ErrorInvalidPropertyRequest,
            "ErrorInvalidPropertySet" => ResponseCode::ErrorInvalidPropertySet,
            "ErrorInvalidPropertyUpdateSentMessage" => {
                ResponseCode::ErrorInvalidPropertyUpdateSentMessage
            }
            "ErrorInvalidProxySecurityContext" => ResponseCode::ErrorInvalidProxySecurityContext,
            "ErrorInvalidPullSubscriptionId" => ResponseCode::ErrorInvalidPullSubscriptionId,
            "ErrorInvalidPushSubscriptionUrl" => ResponseCode::ErrorInvalidPushSubscriptionUrl,
            "ErrorInvalidRecipients" => ResponseCode::ErrorInvalidRecipients,
            "ErrorInvalidRecipientSubfilter" => ResponseCode::ErrorInvalidRecipientSubfilter,
            "ErrorInvalidRecipientSubfilterComparison" => {
                ResponseCode::ErrorInvalidRecipientSubfilterComparison
            }
            "ErrorInvalidRecipientSubfilterOrder" => {
                ResponseCode::ErrorInvalidRecipientSubfilterOrder
            }
            "ErrorInvalidRecipientSubfilterTextFilter" => {
                ResponseCode::ErrorInvalidRecipientSubfilterTextFilter
            }
            "ErrorInvalidReferenceItem" => ResponseCode::ErrorInvalidReferenceItem,
            "ErrorInvalidRequest" => ResponseCode::ErrorInvalidRequest,
            "ErrorInvalidRestriction" => ResponseCode::ErrorInvalidRestriction,
            "ErrorInvalidRetentionTagTypeMismatch" => {
                ResponseCode::ErrorInvalidRetentionTagTypeMismatch
            }
            "ErrorInvalidRetentionTagInvisible" => ResponseCode::ErrorInvalidRetentionTagInvisible,
            "ErrorInvalidRetentionTagInheritance" => {
                ResponseCode::ErrorInvalidRetentionTagInheritance
            }
            "ErrorInvalidRetentionTagIdGuid" => ResponseCode::ErrorInvalidRetentionTagIdGuid,
            "ErrorInvalidRoutingType" => ResponseCode::ErrorInvalidRoutingType,
            "ErrorInvalidScheduledOofDuration" => ResponseCode::ErrorInvalidScheduledOofDuration,
            "ErrorInvalidSchemaVersionForMailboxVersion" => {
                ResponseCode::ErrorInvalidSchemaVersionForMailboxVersion
            }
            "ErrorInvalidSecurityDescriptor" => ResponseCode::ErrorInvalidSecurityDescriptor,
            "ErrorInvalidSendItemSaveSettings" => ResponseCode::ErrorInvalidSendItemSaveSettings,
            "ErrorInvalidSerializedAccessToken" => ResponseCode::ErrorInvalidSerializedAccessToken,
            "ErrorInvalidServerVersion" => ResponseCode::ErrorInvalidServerVersion,
            "ErrorInvalidSid" => ResponseCode::ErrorInvalidSid,
            "ErrorInvalidSIPUri" => ResponseCode::ErrorInvalidSIPUri,
            "ErrorInvalidSmtpAddress" => ResponseCode::ErrorInvalidSmtpAddress,
            "ErrorInvalidSubfilterType" => ResponseCode::ErrorInvalidSubfilterType,
            "ErrorInvalidSubfilterTypeNotAttendeeType" => {
                ResponseCode::ErrorInvalidSubfilterTypeNotAttendeeType
            }
            "ErrorInvalidSubfilterTypeNotRecipientType" => {
                ResponseCode::ErrorInvalidSubfilterTypeNotRecipientType
            }
            "ErrorInvalidSubscription" => ResponseCode::ErrorInvalidSubscription,
            "ErrorInvalidSubscriptionRequest" => ResponseCode::ErrorInvalidSubscriptionRequest,
            "ErrorInvalidSyncStateData" => ResponseCode::ErrorInvalidSyncStateData,
            "ErrorInvalidTimeInterval" => ResponseCode::ErrorInvalidTimeInterval,
            "ErrorInvalidUserOofSettings" => ResponseCode::ErrorInvalidUserOofSettings,
            "ErrorInvalidUserPrincipalName" => ResponseCode::ErrorInvalidUserPrincipalName,
            "ErrorInvalidUserSid" => ResponseCode::ErrorInvalidUserSid,
            "ErrorInvalidUserSidMissingUPN" => ResponseCode::ErrorInvalidUserSidMissingUPN,
            "ErrorInvalidValueForProperty" => ResponseCode::ErrorInvalidValueForProperty,
            "ErrorInvalidWatermark" => ResponseCode::ErrorInvalidWatermark,
            "ErrorIPGatewayNotFound" => ResponseCode::ErrorIPGatewayNotFound,
            "ErrorIrresolvableConflict" => ResponseCode::ErrorIrresolvableConflict,
            "ErrorItemCorrupt" => ResponseCode::ErrorItemCorrupt,
            "ErrorItemNotFound" => ResponseCode::ErrorItemNotFound,
            "ErrorItemPropertyRequestFailed" => ResponseCode::ErrorItemPropertyRequestFailed,
            "ErrorItemSave" => ResponseCode::ErrorItemSave,
            "ErrorItemSavePropertyError" => ResponseCode::ErrorItemSavePropertyError,
            "ErrorLegacyMailboxFreeBusyViewTypeNotMerged" => {
                ResponseCode::ErrorLegacyMailboxFreeBusyViewTypeNotMerged
            }
            "ErrorLocalServerObjectNotFound" => ResponseCode::ErrorLocalServerObjectNotFound,
            "ErrorLogonAsNetworkServiceFailed" => ResponseCode::ErrorLogonAsNetworkServiceFailed,
            "ErrorMailboxConfiguration" => ResponseCode::ErrorMailboxConfiguration,
            "ErrorMailboxDataArrayEmpty" => ResponseCode::ErrorMailboxDataArrayEmpty,
            "ErrorMailboxDataArrayTooBig" => ResponseCode::ErrorMailboxDataArrayTooBig,
            "ErrorMailboxHoldNotFound" => ResponseCode::ErrorMailboxHoldNotFound,
            "ErrorMailboxLogonFailed" => ResponseCode::ErrorMailboxLogonFailed,
            "ErrorMailboxMoveInProgress" => ResponseCode::ErrorMailboxMoveInProgress,
            "ErrorMailboxStoreUnavailable" => ResponseCode::ErrorMailboxStoreUnavailable,
            "ErrorMailRecipientNotFound" => ResponseCode::ErrorMailRecipientNotFound,
            "ErrorMailTipsDisabled" => ResponseCode::ErrorMailTipsDisabled,
            "ErrorManagedFolderAlreadyExists" => ResponseCode::ErrorManagedFolderAlreadyExists,
            "ErrorManagedFolderNotFound" => ResponseCode::ErrorManagedFolderNotFound,
            "ErrorManagedFoldersRootFailure" => ResponseCode::ErrorManagedFoldersRootFailure,
            "ErrorMeetingSuggestionGenerationFailed" => {
                ResponseCode::ErrorMeetingSuggestionGenerationFailed
            }
            "ErrorMessageDispositionRequired" => ResponseCode::ErrorMessageDispositionRequired,
            "ErrorMessageSizeExceeded" => ResponseCode::ErrorMessageSizeExceeded,
            "ErrorMimeContentConversionFailed" => ResponseCode::ErrorMimeContentConversionFailed,
            "ErrorMimeContentInvalid" => ResponseCode::ErrorMimeContentInvalid,
            "ErrorMimeContentInvalidBase64String" => {
                ResponseCode::ErrorMimeContentInvalidBase64String
            }
            "ErrorMissingArgument" => ResponseCode::ErrorMissingArgument,
            "ErrorMissingEmailAddress" => ResponseCode::ErrorMissingEmailAddress,
            "ErrorMissingEmailAddressForManagedFolder" => {
                ResponseCode::ErrorMissingEmailAddressForManagedFolder
            }
            "ErrorMissingInformationEmailAddress" => {
                ResponseCode::ErrorMissingInformationEmailAddress
            }
            "ErrorMissingInformationReferenceItemId" => {
                ResponseCode::ErrorMissingInformationReferenceItemId
            }
            "ErrorMissingItemForCreateItemAttachment" => {
                ResponseCode::ErrorMissingItemForCreateItemAttachment
            }
            "ErrorMissingManagedFolderId" => ResponseCode::ErrorMissingManagedFolderId,
            "ErrorMissingRecipients" => ResponseCode::ErrorMissingRecipients,
            "ErrorMissingUserIdInformation" => ResponseCode::ErrorMissingUserIdInformation,
            "ErrorMoreThanOneAccessModeSpecified" => {
                ResponseCode::ErrorMoreThanOneAccessModeSpecified
            }
            "ErrorMoveCopyFailed" => ResponseCode::ErrorMoveCopyFailed,
            "ErrorMoveDistinguishedFolder" => ResponseCode::ErrorMoveDistinguishedFolder,
            "ErrorMultiLegacyMailboxAccess" => ResponseCode::ErrorMultiLegacyMailboxAccess,
            "ErrorNameResolutionMultipleResults" => {
                ResponseCode::ErrorNameResolutionMultipleResults
            }
            "ErrorNameResolutionNoMailbox" => ResponseCode::ErrorNameResolutionNoMailbox,
            "ErrorNameResolutionNoResults" => ResponseCode::ErrorNameResolutionNoResults,
            "ErrorNoApplicableProxyCASServersAvailable" => {
                ResponseCode::ErrorNoApplicableProxyCASServersAvailable
            }
            "ErrorNoCalendar" => ResponseCode::ErrorNoCalendar,
            "ErrorNoDestinationCASDueToKerberosRequirements" => {
                ResponseCode::ErrorNoDestinationCASDueToKerberosRequirements
            }
            "ErrorNoDestinationCASDueToSSLRequirements" => {
                ResponseCode::ErrorNoDestinationCASDueToSSLRequirements
            }
            "ErrorNoDestinationCASDueToVersionMismatch" => {
                ResponseCode::ErrorNoDestinationCASDueToVersionMismatch
            }
            "ErrorNoFolderClassOverride" => ResponseCode::ErrorNoFolderClassOverride,
            "ErrorNoFreeBusyAccess" => ResponseCode::ErrorNoFreeBusyAccess,
            "ErrorNonExistentMailbox" => ResponseCode::ErrorNonExistentMailbox,
            "ErrorNonPrimarySmtpAddress" => ResponseCode::ErrorNonPrimarySmtpAddress,
            "ErrorNoPropertyTagForCustomProperties" => {
                ResponseCode::ErrorNoPropertyTagForCustomProperties
            }
            "ErrorNoPublicFolderReplicaAvailable" => {
                ResponseCode::ErrorNoPublicFolderReplicaAvailable
            }
            "ErrorNoPublicFolderServerAvailable" => {
                ResponseCode::ErrorNoPublicFolderServerAvailable
            }
            "ErrorNoRespondingCASInDestinationSite" => {
                ResponseCode::ErrorNoRespondingCASInDestinationSite
            }
            "ErrorNotDelegate" => ResponseCode::ErrorNotDelegate,
            "ErrorNotEnoughMemory" => ResponseCode::ErrorNotEnoughMemory,
            "ErrorObjectTypeChanged" => ResponseCode::ErrorObjectTypeChanged,
            "ErrorOccurrenceCrossingBoundary" => ResponseCode::ErrorOccurrenceCrossingBoundary,
            "ErrorOccurrenceTimeSpanTooBig" => ResponseCode::ErrorOccurrenceTimeSpanTooBig,
            "ErrorOperationNotAllowedWithPublicFolderRoot" => {
                ResponseCode::ErrorOperationNotAllowedWithPublicFolderRoot
            }
            "ErrorParentFolderIdRequired" => ResponseCode::ErrorParentFolderIdRequired,
            "ErrorParentFolderNotFound" => ResponseCode::ErrorParentFolderNotFound,
            "ErrorPasswordChangeRequired" => ResponseCode::ErrorPasswordChangeRequired,
            "ErrorPasswordExpired" => ResponseCode::ErrorPasswordExpired,
            "ErrorPhoneNumberNotDialable" => ResponseCode::ErrorPhoneNumberNotDialable,
            "ErrorPropertyUpdate" => ResponseCode::ErrorPropertyUpdate,
            "ErrorPromptPublishingOperationFailed" => {
                ResponseCode::ErrorPromptPublishingOperationFailed
            }
            "ErrorPropertyValidationFailure" => ResponseCode::ErrorPropertyValidationFailure,
            "ErrorProxiedSubscriptionCallFailure" => {
                ResponseCode::ErrorProxiedSubscriptionCallFailure
            }
            "ErrorProxyCallFailed" => ResponseCode::ErrorProxyCallFailed,
            "ErrorProxyGroupSidLimitExceeded" => ResponseCode::ErrorProxyGroupSidLimitExceeded,
            "ErrorProxyRequestNotAllowed" => ResponseCode::ErrorProxyRequestNotAllowed,
            "ErrorProxyRequestProcessingFailed" => ResponseCode::ErrorProxyRequestProcessingFailed,
            "ErrorProxyServiceDiscoveryFailed" => ResponseCode::ErrorProxyServiceDiscoveryFailed,
            "ErrorProxyTokenExpired" => ResponseCode::ErrorProxyTokenExpired,
            "ErrorPublicFolderMailboxDiscoveryFailed" => {
                ResponseCode::ErrorPublicFolderMailboxDiscoveryFailed
            }
            "ErrorPublicFolderOperationFailed" => ResponseCode::ErrorPublicFolderOperationFailed,
            "ErrorPublicFolderRequestProcessingFailed" => {
                ResponseCode::ErrorPublicFolderRequestProcessingFailed
            }
            "ErrorPublicFolderServerNotFound" => ResponseCode::ErrorPublicFolderServerNotFound,
            "ErrorPublicFolderSyncException" => ResponseCode::ErrorPublicFolderSyncException,
            "ErrorQueryFilterTooLong" => ResponseCode::ErrorQueryFilterTooLong,
            "ErrorQuotaExceeded" => ResponseCode::ErrorQuotaExceeded,
            "ErrorReadEventsFailed" => ResponseCode::ErrorReadEventsFailed,
            "ErrorReadReceiptNotPending" => ResponseCode::ErrorReadReceiptNotPending,
            "ErrorRecurrenceEndDateTooBig" => ResponseCode::ErrorRecurrenceEndDateTooBig,
            "ErrorRecurrenceHasNoOccurrence" => ResponseCode::ErrorRecurrenceHasNoOccurrence,
            "ErrorRemoveDelegatesFailed" => ResponseCode::ErrorRemoveDelegatesFailed,
            "ErrorRequestAborted" => ResponseCode::ErrorRequestAborted,
            "ErrorRequestStreamTooBig" => ResponseCode::ErrorRequestStreamTooBig,
            "ErrorRequiredPropertyMissing" => ResponseCode::ErrorRequiredPropertyMissing,
            "ErrorResolveNamesInvalidFolderType" => {
                ResponseCode::ErrorResolveNamesInvalidFolderType
            }
            "ErrorResolveNamesOnlyOneContactsFolderAllowed" => {
                ResponseCode::ErrorResolveNamesOnlyOneContactsFolderAllowed
            }
            "ErrorResponseSchemaValidation" => ResponseCode::ErrorResponseSchemaValidation,
            "ErrorRestrictionTooLong" => ResponseCode::ErrorRestrictionTooLong,
            "ErrorRestrictionTooComplex" => ResponseCode::ErrorRestrictionTooComplex,
            "ErrorResultSetTooBig" => ResponseCode::ErrorResultSetTooBig,
            "ErrorInvalidExchangeImpersonationHeaderData" => {
                ResponseCode::ErrorInvalidExchangeImpersonationHeaderData
            }
            "ErrorSavedItemFolderNotFound" => ResponseCode::ErrorSavedItemFolderNotFound,
            "ErrorSchemaValidation" => ResponseCode::ErrorSchemaValidation,
            "ErrorSearchFolderNotInitialized" => ResponseCode::ErrorSearchFolderNotInitialized,
            "ErrorSendAsDenied" => ResponseCode::ErrorSendAsDenied,
            "ErrorSendMeetingCancellationsRequired" => {
                ResponseCode::ErrorSendMeetingCancellationsRequired
            }
            "ErrorSendMeetingInvitationsOrCancellationsRequired" => {
                ResponseCode::ErrorSendMeetingInvitationsOrCancellationsRequired
            }
            "ErrorSendMeetingInvitationsRequired" => {
                ResponseCode::ErrorSendMeetingInvitationsRequired
            }
            "ErrorSentMeetingRequestUpdate" => ResponseCode::ErrorSentMeetingRequestUpdate,
            "ErrorSentTaskRequestUpdate" => ResponseCode::ErrorSentTaskRequestUpdate,
            "ErrorServerBusy" => ResponseCode::ErrorServerBusy,
            "ErrorServiceDiscoveryFailed" => ResponseCode::ErrorServiceDiscoveryFailed,
            "ErrorStaleObject" => ResponseCode::ErrorStaleObject,
            "ErrorSubmissionQuotaExceeded" => ResponseCode::ErrorSubmissionQuotaExceeded,
            "ErrorSubscriptionAccessDenied" => ResponseCode::ErrorSubscriptionAccessDenied,
            "ErrorSubscriptionDelegateAccessNotSupported" => {
                ResponseCode::ErrorSubscriptionDelegateAccessNotSupported
            }
            "ErrorSubscriptionNotFound" => ResponseCode::ErrorSubscriptionNotFound,
            "ErrorSubscriptionUnsubscribed" => ResponseCode::ErrorSubscriptionUnsubscribed,
            "ErrorSyncFolderNotFound" => ResponseCode::ErrorSyncFolderNotFound,
            "ErrorTeamMailboxNotFound" => ResponseCode::ErrorTeamMailboxNotFound,
            "ErrorTeamMailboxNotLinkedToSharePoint" => {
                ResponseCode::ErrorTeamMailboxNotLinkedToSharePoint
            }
            "ErrorTeamMailboxUrlValidationFailed" => {
                ResponseCode::ErrorTeamMailboxUrlValidationFailed
            }
            "ErrorTeamMailboxNotAuthorizedOwner" => {
                ResponseCode::ErrorTeamMailboxNotAuthorizedOwner
            }
            "ErrorTeamMailboxActiveToPendingDelete" => {
                ResponseCode::ErrorTeamMailboxActiveToPendingDelete
            }
            "ErrorTeamMailboxFailedSendingNotifications" => {
                ResponseCode::ErrorTeamMailboxFailedSendingNotifications
            }
            "ErrorTeamMailboxErrorUnknown" => ResponseCode::ErrorTeamMailboxErrorUnknown,
            "ErrorTimeIntervalTooBig" => ResponseCode::ErrorTimeIntervalTooBig,
            "ErrorTimeoutExpired" => ResponseCode::ErrorTimeoutExpired,
            "ErrorTimeZone" => ResponseCode::ErrorTimeZone,
            "ErrorToFolderNotFound" => ResponseCode::ErrorToFolderNotFound,
            "ErrorTokenSerializationDenied" => ResponseCode::ErrorTokenSerializationDenied,
            "ErrorTooManyObjectsOpened" => ResponseCode::ErrorTooManyObjectsOpened,
            "ErrorUpdatePropertyMismatch" => ResponseCode::ErrorUpdatePropertyMismatch,
            "ErrorUnifiedGroupMailboxAADCreationFailed" => {
                ResponseCode::ErrorUnifiedGroupMailboxAADCreationFailed
            }
            "ErrorUnifiedGroupMailboxAADDeleteFailed" => {
                ResponseCode::ErrorUnifiedGroupMailboxAADDeleteFailed
            }
            "ErrorUnifiedGroupMailboxNamingPolicy" => {
                ResponseCode::ErrorUnifiedGroupMailboxNamingPolicy
            }
            "ErrorUnifiedGroupMailboxDeleteFailed" => {
                ResponseCode::ErrorUnifiedGroupMailboxDeleteFailed
            }
            "ErrorUnifiedGroupMailboxNotFound" => ResponseCode::ErrorUnifiedGroupMailboxNotFound,
            "ErrorUnifiedGroupMailboxUpdateDelayed" => {
                ResponseCode::ErrorUnifiedGroupMailboxUpdateDelayed
            }
            "ErrorUnifiedGroupMailboxUpdatedPartialProperties" => {
                ResponseCode::ErrorUnifiedGroupMailboxUpdatedPartialProperties
            }
            "ErrorUnifiedGroupMailboxUpdateFailed" => {
                ResponseCode::ErrorUnifiedGroupMailboxUpdateFailed
            }
            "ErrorUnifiedGroupMailboxProvisionFailed" => {
                ResponseCode::ErrorUnifiedGroupMailboxProvisionFailed
            }
            "ErrorUnifiedMessagingDialPlanNotFound" => {
                ResponseCode::ErrorUnifiedMessagingDialPlanNotFound
            }
            "ErrorUnifiedMessagingReportDataNotFound" => {
                ResponseCode::ErrorUnifiedMessagingReportDataNotFound
            }
            "ErrorUnifiedMessagingPromptNotFound" => {
                ResponseCode::ErrorUnifiedMessagingPromptNotFound
            }
            "ErrorUnifiedMessagingRequestFailed" => {
                ResponseCode::ErrorUnifiedMessagingRequestFailed
            }
            "ErrorUnifiedMessagingServerNotFound" => {
                ResponseCode::ErrorUnifiedMessagingServerNotFound
            }
            "ErrorUnableToGetUserOofSettings" => ResponseCode::ErrorUnableToGetUserOofSettings,
            "ErrorUnableToRemoveImContactFromGroup" => {
                ResponseCode::ErrorUnableToRemoveImContactFromGroup
            }
            "ErrorUnsupportedSubFilter" => ResponseCode::ErrorUnsupportedSubFilter,
            "ErrorUnsupportedCulture" => ResponseCode::ErrorUnsupportedCulture,
            "ErrorUnsupportedMapiPropertyType" => ResponseCode::ErrorUnsupportedMapiPropertyType,
            "ErrorUnsupportedMimeConversion" => ResponseCode::ErrorUnsupportedMimeConversion,
            "ErrorUnsupportedPathForQuery" => ResponseCode::ErrorUnsupportedPathForQuery,
            "ErrorUnsupportedPathForSortGroup" => ResponseCode::ErrorUnsupportedPathForSortGroup,
            "ErrorUnsupportedPropertyDefinition" => {
                ResponseCode::ErrorUnsupportedPropertyDefinition
            }
            "ErrorUnsupportedQueryFilter" => ResponseCode::ErrorUnsupportedQueryFilter,
            "ErrorUnsupportedRecurrence" => ResponseCode::ErrorUnsupportedRecurrence,
            "ErrorUnsupportedTypeForConversion" => ResponseCode::ErrorUnsupportedTypeForConversion,
            "ErrorUpdateDelegatesFailed" => ResponseCode::ErrorUpdateDelegatesFailed,
            "ErrorUserNotUnifiedMessagingEnabled" => {
                ResponseCode::ErrorUserNotUnifiedMessagingEnabled
            }
            "ErrorVoiceMailNotImplemented" => ResponseCode::ErrorVoiceMailNotImplemented,
            "ErrorValueOutOfRange" => ResponseCode::ErrorValueOutOfRange,
            "ErrorVirusDetected" => ResponseCode::ErrorVirusDetected,
            "ErrorVirusMessageDeleted" => ResponseCode::ErrorVirusMessageDeleted,
            "ErrorWebRequestInInvalidState" => ResponseCode::ErrorWebRequestInInvalidState,
            "ErrorWin32InteropError" => ResponseCode::ErrorWin32InteropError,
            "ErrorWorkingHoursSaveFailed" => ResponseCode::ErrorWorkingHoursSaveFailed,
            "ErrorWorkingHoursXmlMalformed" => ResponseCode::ErrorWorkingHoursXmlMalformed,
            "ErrorWrongServerVersion" => ResponseCode::ErrorWrongServerVersion,
            "ErrorWrongServerVersionDelegate" => ResponseCode::ErrorWrongServerVersionDelegate,
            "ErrorMissingInformationSharingFolderId" => {
                ResponseCode::ErrorMissingInformationSharingFolderId
            }
            "ErrorDuplicateSOAPHeader" => ResponseCode::ErrorDuplicateSOAPHeader,
            "ErrorSharingSynchronizationFailed" => ResponseCode::ErrorSharingSynchronizationFailed,
            "ErrorSharingNoExternalEwsAvailable" => {
                ResponseCode::ErrorSharingNoExternalEwsAvailable
            }
            "ErrorFreeBusyDLLimitReached" => ResponseCode::ErrorFreeBusyDLLimitReached,
            "ErrorInvalidGetSharingFolderRequest" => {
                ResponseCode::ErrorInvalidGetSharingFolderRequest
            }
            "ErrorNotAllowedExternalSharingByPolicy" => {
                ResponseCode::ErrorNotAllowedExternalSharingByPolicy
            }
            "ErrorUserNotAllowedByPolicy" => ResponseCode::ErrorUserNotAllowedByPolicy,
            "ErrorPermissionNotAllowedByPolicy" => ResponseCode::ErrorPermissionNotAllowedByPolicy,
            "ErrorOrganizationNotFederated" => ResponseCode::ErrorOrganizationNotFederated,
            "ErrorMailboxFailover" => ResponseCode::ErrorMailboxFailover,
            "ErrorInvalidExternalSharingInitiator" => {
                ResponseCode::ErrorInvalidExternalSharingInitiator
            }
            "ErrorMessageTrackingPermanentError" => {
                ResponseCode::ErrorMessageTrackingPermanentError
            }
            "ErrorMessageTrackingTransientError" => {
                ResponseCode::ErrorMessageTrackingTransientError
            }
            "ErrorMessageTrackingNoSuchDomain" => ResponseCode::ErrorMessageTrackingNoSuchDomain,
            "ErrorUserWithoutFederatedProxyAddress" => {
                ResponseCode::ErrorUserWithoutFederatedProxyAddress
            }
            "ErrorInvalidOrganizationRelationshipForFreeBusy" => {
                ResponseCode::ErrorInvalidOrganizationRelationshipForFreeBusy
            }
            "ErrorInvalidFederatedOrganizationId" => {
                ResponseCode::ErrorInvalidFederatedOrganizationId
            }
            "ErrorInvalidExternalSharingSubscriber" => {
                ResponseCode::ErrorInvalidExternalSharingSubscriber
            }
            "ErrorInvalidSharingData" => ResponseCode::ErrorInvalidSharingData,
            "ErrorInvalidSharingMessage" => ResponseCode::ErrorInvalidSharingMessage,
            "ErrorNotSupportedSharingMessage" => ResponseCode::ErrorNotSupportedSharingMessage,
            "ErrorApplyConversationActionFailed" => {
                ResponseCode::ErrorApplyConversationActionFailed
            }
            "ErrorInboxRulesValidationError" => ResponseCode::ErrorInboxRulesValidationError,
            "ErrorOutlookRuleBlobExists" => ResponseCode::ErrorOutlookRuleBlobExists,
            "ErrorRulesOverQuota" => ResponseCode::ErrorRulesOverQuota,
            "ErrorNewEventStreamConnectionOpened" => {
                ResponseCode::ErrorNewEventStreamConnectionOpened
            }
            "ErrorMissedNotificationEvents" => ResponseCode::ErrorMissedNotificationEvents,
            "ErrorDuplicateLegacyDistinguishedName" => {
                ResponseCode::ErrorDuplicateLegacyDistinguishedName
            }
            "ErrorInvalidClientAccessTokenRequest" => {
                ResponseCode::ErrorInvalidClientAccessTokenRequest
            }
            "ErrorUnauthorizedClientAccessTokenRequest" => {
                ResponseCode::ErrorUnauthorizedClientAccessTokenRequest
            }
            "ErrorNoSpeechDetected" => ResponseCode::ErrorNoSpeechDetected,
            "ErrorUMServerUnavailable" => ResponseCode::ErrorUMServerUnavailable,
            "ErrorRecipientNotFound" => ResponseCode::ErrorRecipientNotFound,
            "ErrorRecognizerNotInstalled" => ResponseCode::ErrorRecognizerNotInstalled,
            "ErrorSpeechGrammarError" => ResponseCode::ErrorSpeechGrammarError,
            "ErrorInvalidManagementRoleHeader" => ResponseCode::ErrorInvalidManagementRoleHeader,
            "ErrorLocationServicesDisabled" => ResponseCode::ErrorLocationServicesDisabled,
            "ErrorLocationServicesRequestTimedOut" => {
                ResponseCode::ErrorLocationServicesRequestTimedOut
            }
            "ErrorLocationServicesRequestFailed" => {
                ResponseCode::ErrorLocationServicesRequestFailed
            }
            "ErrorLocationServicesInvalidRequest" => {
                ResponseCode::ErrorLocationServicesInvalidRequest
            }
            "ErrorWeatherServiceDisabled" => ResponseCode::ErrorWeatherServiceDisabled,
            "ErrorMailboxScopeNotAllowedWithoutQueryString" => {
                ResponseCode::ErrorMailboxScopeNotAllowedWithoutQueryString
            }
            "ErrorArchiveMailboxSearchFailed" => ResponseCode::ErrorArchiveMailboxSearchFailed,
            "ErrorGetRemoteArchiveFolderFailed" => ResponseCode::ErrorGetRemoteArchiveFolderFailed,
            "ErrorFindRemoteArchiveFolderFailed" => {
                ResponseCode::ErrorFindRemoteArchiveFolderFailed
            }
            "ErrorGetRemoteArchiveItemFailed" => ResponseCode::ErrorGetRemoteArchiveItemFailed,
            "ErrorExportRemoteArchiveItemsFailed" => {
                ResponseCode::ErrorExportRemoteArchiveItemsFailed
            }
            "ErrorInvalidPhotoSize" => ResponseCode::ErrorInvalidPhotoSize,
            "ErrorSearchQueryHasTooManyKeywords" => {
                ResponseCode::ErrorSearchQueryHasTooManyKeywords
            }
            "ErrorSearchTooManyMailboxes" => ResponseCode::ErrorSearchTooManyMailboxes,
            "ErrorInvalidRetentionTagNone" => ResponseCode::ErrorInvalidRetentionTagNone,
            "ErrorDiscoverySearchesDisabled" => ResponseCode::ErrorDiscoverySearchesDisabled,
            "ErrorCalendarSeekToConditionNotSupported" => {
                ResponseCode::ErrorCalendarSeekToConditionNotSupported
            }
            "ErrorCalendarIsGroupMailboxForAccept" => {
                ResponseCode::ErrorCalendarIsGroupMailboxForAccept
            }
            "ErrorCalendarIsGroupMailboxForDecline" => {
                ResponseCode::ErrorCalendarIsGroupMailboxForDecline
            }
            "ErrorCalendarIsGroupMailboxForTentative" => {
                ResponseCode::ErrorCalendarIsGroupMailboxForTentative
            }
            "ErrorCalendarIsGroupMailboxForSuppressReadReceipt" => {
                ResponseCode::ErrorCalendarIsGroupMailboxForSuppressReadReceipt
            }
            "ErrorOrganizationAccessBlocked" => ResponseCode::ErrorOrganizationAccessBlocked,
            "ErrorInvalidLicense" => ResponseCode::ErrorInvalidLicense,
            "ErrorMessagePerFolderCountReceiveQuotaExceeded" => {
                ResponseCode::ErrorMessagePerFolderCountReceiveQuotaExceeded
            }
            "ErrorInvalidBulkActionType" => ResponseCode::ErrorInvalidBulkActionType,
            "ErrorInvalidKeepNCount" => ResponseCode::ErrorInvalidKeepNCount,
            "ErrorInvalidKeepNType" => ResponseCode::ErrorInvalidKeepNType,
            "ErrorNoOAuthServerAvailableForRequest" => {
                ResponseCode::ErrorNoOAuthServerAvailableForRequest
            }
            "ErrorInstantSearchSessionExpired" => ResponseCode::ErrorInstantSearchSessionExpired,
            "ErrorInstantSearchTimeout" => ResponseCode::ErrorInstantSearchTimeout,
            "ErrorInstantSearchFailed" => ResponseCode::ErrorInstantSearchFailed,
            "ErrorUnsupportedUserForExecuteSearch" => {
                ResponseCode::ErrorUnsupportedUserForExecuteSearch
            }
            "ErrorDuplicateExtendedKeywordDefinition" => {
                ResponseCode::ErrorDuplicateExtendedKeywordDefinition
            }
            "ErrorMissingExchangePrincipal" => ResponseCode::ErrorMissingExchangePrincipal,
            "ErrorUnexpectedUnifiedGroupsCount" => ResponseCode::ErrorUnexpectedUnifiedGroupsCount,
            "ErrorParsingXMLResponse" => ResponseCode::ErrorParsingXMLResponse,
            "ErrorInvalidFederationOrganizationIdentifier" => {
                ResponseCode::ErrorInvalidFederationOrganizationIdentifier
            }
            "ErrorInvalidSweepRule" => ResponseCode::ErrorInvalidSweepRule,
            "ErrorInvalidSweepRuleOperationType" => {
                ResponseCode::ErrorInvalidSweepRuleOperationType
            }
            "ErrorTargetDomainNotSupported" => ResponseCode::ErrorTargetDomainNotSupported,
            "ErrorInvalidInternetWebProxyOnLocalServer" => {
                ResponseCode::ErrorInvalidInternetWebProxyOnLocalServer
            }
            "ErrorNoSenderRestrictionsSettingsFoundInRequest" => {
                ResponseCode::ErrorNoSenderRestrictionsSettingsFoundInRequest
            }
            "ErrorDuplicateSenderRestrictionsInputFound" => {
                ResponseCode::ErrorDuplicateSenderRestrictionsInputFound
            }
            "ErrorSenderRestrictionsUpdateFailed" => {
                ResponseCode::ErrorSenderRestrictionsUpdateFailed
            }
            "ErrorMessageSubmissionBlocked" => ResponseCode::ErrorMessageSubmissionBlocked,
            "ErrorExceededMessageLimit" => ResponseCode::ErrorExceededMessageLimit,
            "ErrorExceededMaxRecipientLimitBlock" => {
                ResponseCode::ErrorExceededMaxRecipientLimitBlock
            }
            "ErrorAccountSuspend" => ResponseCode::ErrorAccountSuspend,
            "ErrorExceededMaxRecipientLimit" => ResponseCode::ErrorExceededMaxRecipientLimit,
            "ErrorMessageBlocked" => ResponseCode::ErrorMessageBlocked,
            "ErrorAccountSuspendShowTierUpgrade" => {
                ResponseCode::ErrorAccountSuspendShowTierUpgrade
            }
            "ErrorExceededMessageLimitShowTierUpgrade" => {
                ResponseCode::ErrorExceededMessageLimitShowTierUpgrade
            }
            "ErrorExceededMaxRecipientLimitShowTierUpgrade" => {
                ResponseCode::ErrorExceededMaxRecipientLimitShowTierUpgrade
            }
            "ErrorInvalidLongitude" => ResponseCode::ErrorInvalidLongitude,
            "ErrorInvalidLatitude" => ResponseCode::ErrorInvalidLatitude,
            "ErrorProxySoapException" => ResponseCode::ErrorProxySoapException,
            "ErrorUnifiedGroupAlreadyExists" => ResponseCode::ErrorUnifiedGroupAlreadyExists,
            "ErrorUnifiedGroupAadAuthorizationRequestDenied" => {
                ResponseCode::ErrorUnifiedGroupAadAuthorizationRequestDenied
            }
            "ErrorUnifiedGroupCreationDisabled" => ResponseCode::ErrorUnifiedGroupCreationDisabled,
            "ErrorMarketPlaceExtensionAlreadyInstalledForOrg" => {
                ResponseCode::ErrorMarketPlaceExtensionAlreadyInstalledForOrg
            }
            "ErrorExtensionAlreadyInstalledForOrg" => {
                ResponseCode::ErrorExtensionAlreadyInstalledForOrg
            }
            "ErrorNewerExtensionAlreadyInstalled" => {
                ResponseCode::ErrorNewerExtensionAlreadyInstalled
            }
            "ErrorNewerMarketPlaceExtensionAlreadyInstalled" => {
                ResponseCode::ErrorNewerMarketPlaceExtensionAlreadyInstalled
            }
            "ErrorInvalidExtensionId" => ResponseCode::ErrorInvalidExtensionId,
            "ErrorCannotUninstallProvidedExtensions" => {
                ResponseCode::ErrorCannotUninstallProvidedExtensions
            }
            "ErrorNoRbacPermissionToInstallMarketPlaceExtensions" => {
                ResponseCode::ErrorNoRbacPermissionToInstallMarketPlaceExtensions
            }
            "ErrorNoRbacPermissionToInstallReadWriteMailboxExtensions" => {
                ResponseCode::ErrorNoRbacPermissionToInstallReadWriteMailboxExtensions
            }
            "ErrorInvalidReportMessageActionType" => {
                ResponseCode::ErrorInvalidReportMessageActionType
            }
            "ErrorCannotDownloadExtensionManifest" => {
                ResponseCode::ErrorCannotDownloadExtensionManifest
            }
            "ErrorCalendarForwardActionNotAllowed" => {
                ResponseCode::ErrorCalendarForwardActionNotAllowed
            }
            "ErrorUnifiedGroupAliasNamingPolicy" => {
                ResponseCode::ErrorUnifiedGroupAliasNamingPolicy
            }
            "ErrorSubscriptionsDisabledForGroup" => {
                ResponseCode::ErrorSubscriptionsDisabledForGroup
            }
            other => ResponseCode::Other(other.to_owned()),
        }
    }
}

impl FromStr for ResponseCode {
    type Err = std::convert::Infallible;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Ok(ResponseCode::parse(code))
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}
